"""UI strings in zh-CN (default) and English; pages pick with `?lang=`."""

from __future__ import annotations

LANGUAGES = ("zh-CN", "en")

STRINGS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "map_title": "网格化管理地图",
        "grids": "网格",
        "buildings": "楼栋",
        "outside": "网格外楼栋",
        "code": "编码",
        "name": "名称",
        "community": "社区",
        "street": "街道",
        "households": "户数",
        "residents": "人口",
        "address": "地址",
        "grid": "所属网格",
        "legend_street": "按街道着色",
        "switch_language": "English",
    },
    "en": {
        "map_title": "Grid management map",
        "grids": "Grids",
        "buildings": "Buildings",
        "outside": "Buildings outside every grid",
        "code": "Code",
        "name": "Name",
        "community": "Community",
        "street": "Street",
        "households": "Households",
        "residents": "Residents",
        "address": "Address",
        "grid": "Grid",
        "legend_street": "Coloured by street",
        "switch_language": "中文",
    },
}


def pick_language(requested: str | None) -> str:
    """The requested language if supported, else zh-CN."""
    if requested and requested.lower().startswith("en"):
        return "en"
    return "zh-CN"


def strings(language: str) -> dict[str, str]:
    return STRINGS[pick_language(language)]
