"""The Web Mercator tile grid's addresses: which z/x/y exist. Shared by gridmap's own vector tiles
(gis/store/tiles.py) and the basemap's tiles (gis/basemap.py), which differ only in their deepest zoom."""

from __future__ import annotations

from gis.errors import InvalidInput


def check_tile_address(z: int, x: int, y: int, max_zoom: int) -> None:
    """InvalidInput naming the range for a z, x or y that is no tile of the grid (zoom 0 to `max_zoom`)."""
    if not 0 <= z <= max_zoom:
        raise InvalidInput(f"zoom {z} is out of range; allowed: 0 to {max_zoom}", details={"z": z})
    last = 2**z - 1
    for name, value in (("x", x), ("y", y)):
        if not 0 <= value <= last:
            raise InvalidInput(f"tile {name} {value} is out of range at zoom {z}; allowed: 0 to {last}",
                               details={name: value, "z": z})
