#!/usr/bin/env python3
"""What a county IT person would write with Pillow and OpenCV, timed on the
same pictures as the kiosk's benchmark (benches/photo.rs), so each kiosk
figure can be given as a ratio to this script in the same run.

  taskset -c 0 python3 scripts/photo-compare.py [--json]

Needs: pip install Pillow opencv-python-headless numpy, and the sample
photos from scripts/fetch-models.sh. Prints one line per task (median
milliseconds over several runs) or, with --json, one JSON object.

The tasks mirror the kiosk's:
- encode_*: the search the kiosk used before it predicted qualities:
  quality 100, then the minimum (50, 20 for the chip portrait), then a
  binary search for the highest quality that fits, shrinking (bilinear,
  aspect kept) when even the minimum does not fit. Pillow's JPEG is
  libjpeg-turbo, 4:2:0, like the kiosk's.
- standard_portrait_1280x720: from a 1280x720 frame whose face box is
  known, cut the 358:441 crop, scale it with Lanczos (OpenCV), encode it
  at the highest quality under 300 000 bytes (Pillow).
- coach_frame_640x480: OpenCV's Haar frontal face detector on a 640x480
  frame, and on one with nobody in it (the usual OpenCV live-face loop).
"""

import io
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "photo"


def median_ms(task, runs):
    task()  # warm up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        task()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def jpeg_bytes(image, quality):
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def best_quality(image, cap, min_quality):
    best = jpeg_bytes(image, 100)
    if len(best) <= cap:
        return best, 100, None
    lowest = jpeg_bytes(image, min_quality)
    if len(lowest) > cap:
        return None, None, len(lowest)
    fits, fits_bytes, too_big = min_quality, lowest, 100
    while too_big - fits > 1:
        mid = fits + (too_big - fits) // 2
        data = jpeg_bytes(image, mid)
        if len(data) <= cap:
            fits, fits_bytes = mid, data
        else:
            too_big = mid
    return fits_bytes, fits, None


def encode_under_cap(image, cap, min_quality, may_shrink):
    current = image
    while True:
        data, quality, smallest = best_quality(current, cap, min_quality)
        if data is not None:
            return data, quality, current.size
        if not may_shrink:
            raise ValueError("cannot fit")
        factor = min((cap / smallest) ** 0.5 * 0.95, 0.9)
        size = (round(current.width * factor), round(current.height * factor))
        current = current.resize(size, Image.BILINEAR)


def main():
    as_json = "--json" in sys.argv
    astronaut = Image.open(FIXTURES / "astronaut.png").convert("RGB")
    # The same pictures as benches/photo.rs (Triangle there, bilinear here).
    certificate = astronaut.resize((2400, 1800), Image.BILINEAR)
    id_card = astronaut.resize((1280, 808), Image.BILINEAR)
    card_portrait = astronaut.resize((102, 126), Image.BILINEAR)
    large = astronaut.resize((1280, 1280), Image.LANCZOS)
    portrait = large.crop((281, 150, 281 + 717, 150 + 883)).resize((358, 441), Image.LANCZOS)

    results = {}
    details = {}
    for name, image, cap, min_q, shrink in [
        ("encode_portrait_358x441_300k", portrait, 300_000, 50, False),
        ("encode_id_card_1280x808_40k", id_card, 40_000, 50, True),
        ("encode_certificate_2400x1800_300k", certificate, 300_000, 50, True),
        ("encode_card_portrait_102x126_3k", card_portrait, 3_000, 20, True),
    ]:
        results[name] = median_ms(lambda: encode_under_cap(image, cap, min_q, shrink), 9)
        data, quality, size = encode_under_cap(image, cap, min_q, shrink)
        details[name] = {"bytes": len(data), "quality": quality, "size": list(size)}

    # The bench's 1280x720 camera frame: the astronaut scaled to 1400 px,
    # its top left 1280x720, and the standard crop the kiosk cuts there
    # (printed by the bench).
    frame = astronaut.resize((1400, 1400), Image.LANCZOS).crop((0, 0, 1280, 720))
    frame_bgr = cv2.cvtColor(np.asarray(frame), cv2.COLOR_RGB2BGR)
    crop = (369, 0, 369 + 497, 0 + 612)

    def standard_portrait():
        cut = frame_bgr[crop[1]:crop[3], crop[0]:crop[2]]
        scaled = cv2.resize(cut, (358, 441), interpolation=cv2.INTER_LANCZOS4)
        rgb = Image.fromarray(cv2.cvtColor(scaled, cv2.COLOR_BGR2RGB))
        return best_quality(rgb, 300_000, 50)

    results["standard_portrait_1280x720"] = median_ms(standard_portrait, 21)

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    coach = Image.new("RGB", (640, 480), (120, 120, 125))
    coach.paste(astronaut.resize((480, 480), Image.BILINEAR), (80, 0))
    coach_grey = cv2.cvtColor(np.asarray(coach), cv2.COLOR_RGB2GRAY)
    empty_grey = np.full((480, 640), 121, dtype=np.uint8)

    def detect(grey):
        return cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(60, 60))

    results["coach_frame_640x480"] = median_ms(lambda: detect(coach_grey), 31)
    results["coach_frame_640x480_nobody"] = median_ms(lambda: detect(empty_grey), 31)
    details["coach_frame_640x480"] = {"faces": len(detect(coach_grey))}

    if as_json:
        print(json.dumps({"ms": results, "details": details}))
    else:
        for name, ms in results.items():
            print(f"{name:40s} {ms:9.2f} ms  {details.get(name, '')}")


if __name__ == "__main__":
    main()
