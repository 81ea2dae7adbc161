"""The simulated people's data for the load scenario (bench/load/locustfile.py): names, ID card scans, photos,
client addresses and mistyped certificate codes."""

import io
import random
from datetime import date

from PIL import Image, ImageDraw

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红鹏辉建华婷飞宇浩然子涵欣怡梓轩思远雨泽"
# County-level codes of Henan (GB/T 2260). Some were created after the birth years drawn below: such numbers are
# valid all the same (a number carries the code in force when it was issued; docs/architecture.md#identity).
AREAS = ("410102", "410103", "410104", "410105", "410302", "410303", "410202", "410205", "411302", "411303")


def client_address(group: int, n: int) -> str:
    return f"198.{18 + (n >> 16 & 1)}.{(group << 4) | (n >> 8 & 15)}.{n & 255 or 1}"


def id_card_image(identity, side) -> bytes:
    """A card-sized colour scan, different for each person and side (the server re-encodes it)."""
    image = Image.new("RGB", (856, 540), (236, 232, 214) if side == "front" else (214, 228, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((24, 24, 832, 516), outline=(120, 96, 60), width=4)
    if side == "front":
        draw.rectangle((600, 90, 800, 340), fill=(90, 140, 200))
        draw.ellipse((650, 130, 750, 250), fill=(232, 190, 160))
        draw.text((60, 420), identity["id_number"], fill=(20, 20, 20))
    else:
        draw.ellipse((60, 60, 200, 200), fill=(200, 40, 40))
        draw.text((260, 380), f"valid {date.today():%Y.%m.%d}", fill=(20, 20, 20))
    for _ in range(40):
        x, y = random.randrange(40, 800), random.randrange(40, 500)
        draw.line((x, y, x + random.randrange(5, 40), y), fill=(random.randrange(255), 80, 80))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def photo_image() -> bytes:
    """A bareheaded colour portrait, 413 x 531 pixels (the 2-inch ID photo size; at least 358 x 441 is asked)."""
    background = random.choice(((67, 142, 219), (255, 255, 255), (200, 30, 40)))
    image = Image.new("RGB", (413, 531), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((126, 90, 286, 290), fill=(236, 196, 164))
    draw.ellipse((120, 70, 292, 180), fill=(30, 24, 20))
    draw.rectangle((70, 330, 343, 531), fill=(40, 50, 80))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def wrong_code() -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    raw = "".join(random.choice(alphabet) for _ in range(20))
    return "-".join(raw[i : i + 4] for i in range(0, 20, 4))
