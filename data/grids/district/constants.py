"""The sample district's fixed choices: seed, codes, CRSs, targets, real street names, name stock."""

from __future__ import annotations

from pathlib import Path

from shapely.geometry.base import BaseGeometry

SEED = 20240101
OUT_DIR = Path(__file__).resolve().parents[3] / "gis" / "sample" / "yuzhong"  # shipped as package data
DISTRICT_CODE = "500103"
DISTRICT_NAME = "渝中区"
DISTRICT_GB = "156500103"
METRIC_EPSG = 4545  # CGCS2000 / 3-degree Gauss-Kruger CM 108E (EPSG:4547 would be CM 114E)
SNAP_DEG = 1e-7  # output coordinate grid (~1 cm); boundaries are noded on it
# Edges are kept short so a straight edge in lon/lat and in metres stay within 0.1 mm of each other;
# a 3 km edge bends by ~10 cm between the two CRSs, enough to turn valid polygons invalid.
SEGMENT_M = 50.0
SEGMENT_DEG = 0.0005
VALID_FROM = "2024-01-01"
LEFT_DATE = "2025-12-31"  # the deliberately departed grid worker left on this (past) date
COLUMN_WIDTH_DEG = 0.002  # numbering strips: west to east in 0.002° strips, north to south inside
TARGET_GRIDS = 245
WORKER_TARGET = (300, 500)  # households per grid worker
HOLE_BUILDINGS = 20

# Real street names; seeds (lon, lat) placed after the real layout; community count per street.
STREETS: tuple[tuple[str, float, float, int], ...] = (
    ("解放碑街道", 106.5760, 29.5575, 9),
    ("七星岗街道", 106.5590, 29.5565, 8),
    ("上清寺街道", 106.5420, 29.5610, 6),
    ("大溪沟街道", 106.5520, 29.5655, 4),
    ("两路口街道", 106.5440, 29.5525, 7),
    ("菜园坝街道", 106.5360, 29.5465, 5),
    ("南纪门街道", 106.5630, 29.5500, 6),
    ("望龙门街道", 106.5770, 29.5525, 5),
    ("朝天门街道", 106.5840, 29.5635, 4),
    ("化龙桥街道", 106.5060, 29.5520, 9),
    ("石油路街道", 106.5070, 29.5380, 6),
    ("大坪街道", 106.5240, 29.5430, 7),
)

# Synthetic community names built from local place words (count per street as above).
COMMUNITY_NAMES: dict[str, tuple[str, ...]] = {
    "解放碑街道": ("民生路", "小什字", "较场口", "大井巷", "五一路", "新华路", "八一路", "民权路", "会仙楼"),
    "七星岗街道": ("通远门", "金汤门", "领事巷", "双巷子", "观音岩", "兴隆街", "和平路", "纯阳洞"),
    "上清寺街道": ("上清寺", "美专校", "中山四路", "学田湾", "桂花园", "曾家岩"),
    "大溪沟街道": ("人和街", "双钢路", "黄花园", "大溪沟"),
    "两路口街道": ("中山三路", "枇杷山", "鹅岭", "长江一路", "健康路", "跳伞塔", "王家坡"),
    "菜园坝街道": ("菜园坝", "燕喜洞", "南区路", "珊瑚坝", "皇冠"),
    "南纪门街道": ("南纪门", "凯旋路", "储奇门", "厚慈街", "解放西路", "石板坡"),
    "望龙门街道": ("望龙门", "白象街", "道门口", "太华楼", "解放东路"),
    "朝天门街道": ("朝天门", "陕西路", "朝东路", "信义街"),
    "化龙桥街道": ("化龙桥", "红岩村", "李子坝", "佛图关", "虎头岩", "嘉西村", "龙隐路", "平街", "渝州路"),
    "石油路街道": ("石油路", "大黄路", "经纬", "歇台子", "团结路", "金银湾"),
    "大坪街道": ("大坪正街", "七牌坊", "肖家湾", "袁家岗", "长江二路", "马家堡", "天灯堡"),
}

ROADS: dict[str, tuple[str, ...]] = {
    "解放碑街道": ("民权路", "民族路", "邹容路", "八一路", "五四路", "青年路", "中华路", "临江路"),
    "七星岗街道": ("中山一路", "和平路", "金汤街", "领事巷", "通远门街", "纯阳洞街", "兴隆街"),
    "上清寺街道": ("中山四路", "人民路", "上清寺路", "学田湾正街", "美专校街", "嘉陵桥东路"),
    "大溪沟街道": ("人和街", "双钢路", "大溪沟街", "黄花园路", "北区路", "嘉陵江滨江路"),
    "两路口街道": ("中山二路", "中山三路", "长江一路", "枇杷山正街", "鹅岭正街", "健康路", "桂花园路"),
    "菜园坝街道": ("南区路", "菜园坝正街", "燕喜洞路", "长江滨江路", "王家坡路"),
    "南纪门街道": ("解放西路", "凯旋路", "储奇门街", "厚慈街", "南纪门正街", "石板坡路"),
    "望龙门街道": ("解放东路", "白象街", "望龙门街", "道门口", "太华楼街", "长江滨江路"),
    "朝天门街道": ("陕西路", "新华路", "朝东路", "信义街", "朝天门大街"),
    "化龙桥街道": ("红岩村路", "李子坝正街", "化龙桥正街", "佛图关路", "虎头岩路", "嘉陵江滨江路", "龙隐路"),
    "石油路街道": ("石油路", "大黄路", "经纬大道", "歇台子路", "团结路", "金银湾路"),
    "大坪街道": ("大坪正街", "长江二路", "七牌坊路", "肖家湾路", "袁家岗路", "马家堡路", "虎头岩路"),
}

SURNAMES = (
    "陈李张王刘杨黄周谭何罗冉向吴赵徐孙马朱胡郭高林郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜钟陆汪范金石廖贾夏付方白邹秦邱江熊雷侯龙陶黎贺顾毛龚万严文牟"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力永健志兴良海山波宁贵福生龙"
    "全国胜学祥才武新利清飞彬富顺成康星光天达安中茂进林和博诚先振会思群豪乐功松善庆民友江浩亮"
    "政宏鸣朋斌栋维启克伦翔旭鹏泽晨家德泰盛雄航慧巧美淑惠翠雅芝娥玲芬燕彩春菊兰凤洁梅琳素云莲"
    "雪荣爱香月媛瑞佳嘉琼勤珍莉晶妍茜秋珊锦青倩婷婉瑾颖露瑶怡丹蓉君琴蕊薇梦岚馨韵悦冰宇雨忠蓓"
)

Geom = BaseGeometry


def log(message: str) -> None:
    """Progress line, so a rerun shows where the time goes."""
    print(f"[generate] {message}", flush=True)
