"""tandem.resize for Python Celery workers: the same task as `tandem worker`.

Why: a queue served by tandem workers can also be served by Python Celery
workers, or by both at once, when both run the same task under the same
contract (src/celery/task.rs):

    args    [url]
    kwargs  {"width": 128, "height": 128, "fit": False}   (each optional)
    work    download url; resize with Pillow; SETEX tandem:png:<task id> PNG
    returns {"key": "tandem:png:<task id>", "width": W, "height": H,
             "bytes": N, "url": url, "source_width": w, "source_height": h,
             "downloaded_bytes": D}

`bytes` is the PNG's length, `downloaded_bytes` the length of the body
downloaded from url (what `tandem --broker` reports as the input's download).

Run a worker on the queue `tandem` (the broker from $TANDEM_BROKER):

    cd contrib/celery
    TANDEM_BROKER=redis://127.0.0.1:6379/0 celery -A tandem_tasks worker -Q tandem

Send a task from Python:

    from tandem_tasks import app
    result = app.send_task("tandem.resize", args=[url], queue="tandem")
    print(result.get(timeout=60))

The settings match tandem's worker: late acknowledgement (a job is
acknowledged when its result is stored), one message taken at a time, the
visibility timeout from $TANDEM_VISIBILITY_TIMEOUT (seconds, default 3600).
"""

import io
import os
import urllib.request

from celery import Celery
from PIL import Image

BROKER = os.environ.get("TANDEM_BROKER", "redis://127.0.0.1:6379/0")
VISIBILITY_TIMEOUT = float(os.environ.get("TANDEM_VISIBILITY_TIMEOUT", "3600"))
RESULT_EXPIRES = 86400
MAX_DOWNLOAD = 64 << 20
MAX_SIDE = 16384

app = Celery("tandem_tasks", broker=BROKER, backend=BROKER)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_default_queue="tandem",
    result_expires=RESULT_EXPIRES,
    broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


class DownloadError(Exception):
    """The URL could not be fetched (tandem's name for the same failure)."""


class ImageError(Exception):
    """The bytes are not an image Pillow can decode, or too large."""


def contain(source, target):
    """tandem's Fit::Contain: fit inside target, keeping the aspect ratio."""
    (sw, sh), (tw, th) = source, target
    if sw * th >= tw * sh:
        return tw, max(1, (sh * tw + sw // 2) // sw)
    return max(1, (sw * th + sh // 2) // sh), th


@app.task(name="tandem.resize", bind=True)
def resize(self, url, width=128, height=128, fit=False):
    """Downloads url, resizes it, stores the PNG; returns where it is."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            data = response.read(MAX_DOWNLOAD + 1)
    except Exception as err:  # noqa: BLE001 - every failure is a DownloadError
        raise DownloadError(f"{url}: {err}") from None
    if len(data) > MAX_DOWNLOAD:
        raise DownloadError(f"{url}: more than {MAX_DOWNLOAD} bytes")
    try:
        image = Image.open(io.BytesIO(data))
        if max(image.size) > MAX_SIDE:
            raise ImageError(f"a {image.size[0]}x{image.size[1]} image is over the limits")
        image.load()
    except ImageError:
        raise
    except Exception as err:  # noqa: BLE001
        raise ImageError(f"could not decode the image: {err}") from None
    source = image.size
    size = contain(source, (width, height)) if fit else (width, height)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.mode else "RGB")
    image = image.resize(size, Image.BICUBIC)
    out = io.BytesIO()
    image.save(out, format="PNG")
    png = out.getvalue()
    key = f"tandem:png:{self.request.id}"
    self.backend.client.setex(key, RESULT_EXPIRES, png)
    return {
        "key": key,
        "width": image.width,
        "height": image.height,
        "bytes": len(png),
        "url": url,
        "source_width": source[0],
        "source_height": source[1],
        "downloaded_bytes": len(data),
    }
