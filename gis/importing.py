"""Reading and checking import files before anything is written.

`gridmap import KIND FILE` reads GeoJSON, GeoPackage, zipped Shapefile (and CSV for teams) with
pyogrio, checks every feature, and either hands a clean WGS84 frame to the store or rejects the file
with every problem listed by feature index. Nothing is half-written: the store writes only clean frames.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyogrio

from gis.errors import InvalidInput
from gis.geometry import Problem, prepare_frame

Kind = Literal["communities", "grids", "buildings", "teams"]
KINDS: tuple[Kind, ...] = ("communities", "grids", "buildings", "teams")
TEAM_ROLES = ("leader", "grid_worker", "central_household", "volunteer", "caring_resident")


@dataclass(frozen=True)
class KindSpec:
    """What a file of one kind must contain."""

    geometry_kind: Literal["polygon", "point", "none"]
    required: tuple[str, ...]
    optional: dict[str, object] = field(default_factory=dict)
    unique: str | None = "code"
    integers: tuple[str, ...] = ()


SPECS: dict[Kind, KindSpec] = {
    "communities": KindSpec(
        "polygon",
        ("district_code", "district_name", "street_code", "street_name", "code", "name"),
        {"party_secretary": None, "party_members": 0},
        integers=("party_members",),
    ),
    "grids": KindSpec("polygon", ("code", "name"), {"community_code": None, "valid_from": None}),
    "buildings": KindSpec(
        "point",
        ("code",),
        {"address": "", "households": 0, "residents": 0, "floors": None, "party_group": None,
         "party_group_leader": None},
        integers=("households", "residents", "floors"),
    ),
    "teams": KindSpec(
        "none",
        ("grid_code",),
        {"branch_name": None, "branch_secretary": None, "branch_members": 0, "team_name": None,
         "person_name": None, "role": None, "phone": None, "from_date": None, "to_date": None},
        unique=None,
        integers=("branch_members",),
    ),
}


class ImportRejected(InvalidInput):
    """The file has problems; nothing was written. `problems` lists each by feature index."""

    def __init__(self, kind: str, source: str, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  feature {p.index}: {p.reason}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            f"{source}: {len(problems)} problem(s) in {kind}; nothing was written\n{shown}{more}"
        )


@dataclass
class CheckedFile:
    """A clean frame ready for the store (EPSG:4326), plus what --repair fixed."""

    kind: Kind
    frame: gpd.GeoDataFrame | pd.DataFrame
    repaired: list[Problem]


def read_source(path: Path | str, *, layer: str | None = None, kind: Kind | None = None) -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage, zipped Shapefile or CSV file with pyogrio; codes stay text."""
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"file not found: {path}")
    source = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)
    read_geometry = not (kind is not None and SPECS[kind].geometry_kind == "none")
    try:
        return pyogrio.read_dataframe(source, layer=layer, read_geometry=read_geometry)
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc}") from exc


def check_file(
    kind: Kind,
    frame: gpd.GeoDataFrame | pd.DataFrame,
    *,
    declared_crs: str | int | None = None,
    repair: bool = False,
    source: str = "file",
) -> CheckedFile:
    """Check a frame of one kind; raise ImportRejected naming every problem, or return it clean."""
    if kind not in SPECS:
        raise InvalidInput(f"unknown import kind {kind!r}; allowed: {', '.join(KINDS)}")
    spec = SPECS[kind]
    frame = _restore_shapefile_names(spec, frame)
    _check_columns(spec, frame, source)
    frame = _with_defaults(spec, frame)
    problems: list[Problem] = []
    repaired: list[Problem] = []
    if spec.geometry_kind != "none":
        prepared = prepare_frame(
            frame, geometry_kind=spec.geometry_kind, declared_crs=declared_crs, repair=repair
        )
        frame, repaired = prepared.frame, prepared.repaired
        problems.extend(prepared.problems)
    problems.extend(_check_values(kind, spec, frame))
    if problems:
        raise ImportRejected(kind, source, sorted(problems, key=lambda p: p.index))
    return CheckedFile(kind, frame, repaired)


# -- private steps ------------------------------------------------------------------------------


def _restore_shapefile_names(spec: KindSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Shapefiles cut field names to 10 characters (`district_code` → `district_c`): map them back."""
    renames: dict[str, str] = {}
    for name in (*spec.required, *spec.optional):
        if name not in frame.columns and name[:10] in frame.columns:
            renames.setdefault(name[:10], name)  # first wins: `party_group` before `party_group_leader`
    return frame.rename(columns=renames) if renames else frame


def _check_columns(spec: KindSpec, frame: pd.DataFrame, source: str) -> None:
    missing = [name for name in spec.required if name not in frame.columns]
    if missing:
        raise InvalidInput(
            f"{source}: missing column(s) {', '.join(missing)}; required: {', '.join(spec.required)}"
        )


def _with_defaults(spec: KindSpec, frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for name, default in spec.optional.items():
        if name not in frame.columns:
            frame[name] = default
    return frame


_DIGITS = {n: re.compile(rf"^[0-9]{{{n}}}$") for n in (6, 9, 12, 15)}


def _code_rule(digits: int) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        text = "" if _is_missing(value) else str(value)
        if not _DIGITS[digits].match(text):
            return f"code {text!r} must be exactly {digits} digits"
        return None

    return check


_CODE_RULES: dict[str, dict[str, Callable[[object], str | None]]] = {
    "communities": {"district_code": _code_rule(6), "street_code": _code_rule(9), "code": _code_rule(12)},
    "grids": {"code": _code_rule(15)},
    "buildings": {},
    "teams": {"grid_code": _code_rule(15)},
}


def _check_values(kind: Kind, spec: KindSpec, frame: pd.DataFrame) -> list[Problem]:
    problems: list[Problem] = []
    rules = _CODE_RULES[kind]
    for position, row in enumerate(frame.itertuples(index=False)):
        record = row._asdict()
        for column, rule in rules.items():
            reason = rule(record[column])
            if reason:
                problems.append(Problem(position, f"{column}: {reason}"))
        for column in spec.integers:
            value = record[column]
            if not _is_missing(value) and not _is_non_negative_int(value):
                problems.append(Problem(position, f"{column} {value!r} is not a whole number ≥ 0"))
        problems.extend(_kind_rules(kind, position, record))
    if spec.unique:
        problems.extend(_duplicates(frame[spec.unique]))
    return problems


def _kind_rules(kind: Kind, position: int, record: dict[str, object]) -> list[Problem]:
    problems: list[Problem] = []
    if kind == "communities":
        code, street = str(record["code"]), str(record["street_code"])
        if not code.startswith(street) or not street.startswith(str(record["district_code"])):
            problems.append(Problem(position, f"code {code!r} does not extend street_code {street!r}"))
    elif kind == "grids":
        community = record["community_code"]
        if not _is_missing(community) and not str(record["code"]).startswith(str(community)):
            problems.append(
                Problem(position, f"grid code {record['code']!r} does not start with community_code {community!r}")
            )
        if str(record["code"]).endswith("000"):
            problems.append(Problem(position, f"grid code {record['code']!r}: sequence 000 is not allowed"))
    elif kind == "buildings":
        if _is_missing(record["code"]) or not str(record["code"]).strip():
            problems.append(Problem(position, "building code is empty"))
    elif kind == "teams":
        role = record["role"]
        if not _is_missing(role) and str(role) not in TEAM_ROLES:
            problems.append(Problem(position, f"role {role!r} is not one of {', '.join(TEAM_ROLES)}"))
        if not _is_missing(role) and (_is_missing(record["team_name"]) or _is_missing(record["person_name"])):
            problems.append(Problem(position, "a member row needs team_name and person_name"))
        for column in ("from_date", "to_date"):
            value = record[column]
            if not _is_missing(value) and _parse_date(value) is None:
                problems.append(Problem(position, f"{column} {value!r} is not a date (YYYY-MM-DD)"))
    return problems


def _duplicates(codes: pd.Series) -> list[Problem]:
    text = codes.astype(str)
    duplicated = text.duplicated(keep="first")
    first_seen = {code: i for i, code in reversed(list(enumerate(text)))}
    return [
        Problem(i, f"duplicate code {text.iloc[i]!r} (first at feature {first_seen[text.iloc[i]]})")
        for i in duplicated.to_numpy().nonzero()[0]
    ]


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA or value == ""


def _is_non_negative_int(value: object) -> bool:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return number >= 0 and number == int(number)


def _parse_date(value: object) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(str(value)[:10])
    except ValueError:
        return None
