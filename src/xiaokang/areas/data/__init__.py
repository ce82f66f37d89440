"""Package data of the areas app.

``zhuzhou.csv``: 湖南省 (43), 株洲市 (4302), its 9 county-level and 112 town-level areas from the public
statistical division codes (统计用区划代码, 2022 edition, ../shared/data/divisions), plus the retired
株洲县 430221 (``valid_to`` 2018-01-01, successor 渌口区 430212). The State Council approved the change
in June 2018 (secondary sources; the exact day is not confirmed): the start of 2018 is used because
yearly statistics for 2018 are reported under 渌口区. Layout: code,name,level,parent_code,valid_from,
valid_to,successor_code. Load with ``xiaokang areas import --zhuzhou``.
"""

from importlib import resources


def zhuzhou_csv():
    """A Traversable for the packaged Zhuzhou division file (use ``.open(encoding="utf-8")``)."""
    return resources.files(__name__) / "zhuzhou.csv"
