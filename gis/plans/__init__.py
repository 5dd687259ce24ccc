"""Redraw plans (issue 10): a full set of grids for one community or street, checked, balanced and
previewed before it takes effect. Pure: shapely and numpy, no database (gis/store/plans.py stores them).

- `model` — what a plan's grid is;
- `checks` — what is wrong with a plan, each problem with its geometry;
- `balance` — governance load per grid (buildings, households, cases, workers);
- `impact` — what changes hands: buildings and open cases whose grid would change.
"""
