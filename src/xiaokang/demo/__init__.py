"""Synthetic demonstration data for Zhuzhou (株洲市演示数据): ``xiaokang demo``.

- ``plan``: the calibration (published figures for 炎陵县 and 茶陵县, city totals, and the synthetic
  allocation over the other counties);
- ``generator``: the deterministic generator (``random.Random(seed)``; villages, population,
  households, members, incomes);
- ``loader``: fast idempotent loading, demo parameters and users, the yearly assessment run;
- ``management/commands/demo.py``: the command.

All people, villages and numbers are invented (names with "示", ID sequence numbers 900–999, villages
named 示例…村, ``is_demo=True``); only the division codes and the calibration figures are real.
"""
