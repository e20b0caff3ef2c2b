"""A labelling round trip: load the user's pool, hand a proposed batch to a labeller, store the labels.

- :func:`load_user_pool`: a folder of PNG/JPEG images or an array file -> :class:`UserPool`.
- :class:`LabelStore`: labels persisted to a CSV (``pool_id,label,labelled_at``) atomically
  after every label; a new store on the same file resumes where the last one stopped.
- Exports of a proposed batch (:mod:`diamlib.userfiles.batchfile` for the CSV; a Label Studio task list
  here) and imports of labels back (a CSV, or a Label Studio JSON export with choices).
- :class:`diamlib.userfiles.labeller.Labeller`: the same store behind buttons in a notebook.

Labels are class *names* (strings); an integer given where a label is expected is a class
*index* into the store's ``classes``.

References
----------
Algorithm 2, lines 10-11 of the paper: the oracle labels the ``tau`` queried points, which join
the labeled set before the next round.
"""
from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from diamlib.fileio import atomic_write, atomic_write_text, now_iso

#: File name endings read as images by :func:`load_user_pool`.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
#: Columns of a label store's CSV.
LABEL_COLUMNS = ("pool_id", "label", "labelled_at")
#: Names of the image and choice tags in :func:`label_studio_config` (and read back on import).
LABEL_STUDIO_IMAGE, LABEL_STUDIO_CHOICES = "image", "label"


# --------------------------------------------------------------------------- the user's pool
@dataclass(frozen=True)
class UserPool:
    """The unlabeled pool as the user gave it.

    Attributes
    ----------
    images : ndarray, shape (n, H, W) or (n, H, W, C)
        uint8 (0-255) or float pixels.
    ids : ndarray of str, shape (n,)
        File names (folder pools) or the array file's ``ids`` (default "0".."n-1").
    labels : ndarray, shape (n,), optional
        Known labels from an ``.npz``'s ``labels`` (e.g. to label with ground truth).
    paths : tuple of Path, optional
        The image files of a folder pool, row-aligned with ``images``.
    """

    images: np.ndarray
    ids: np.ndarray
    labels: np.ndarray | None = None
    paths: tuple[Path, ...] | None = None

    def positions(self, ids: Iterable[Any]) -> np.ndarray:
        """Rows of the given ids; a ``ValueError`` names ids that are not in the pool."""
        row = {pool_id: i for i, pool_id in enumerate(self.ids.tolist())}
        ids = [str(i) for i in ids]
        unknown = [i for i in ids if i not in row]
        if unknown:
            raise ValueError(f"pool ids {unknown[:5]} are not in the pool ({len(self.ids)} ids, e.g. "
                             f"{self.ids[:3].tolist()}); check that the batch was selected on this pool")
        return np.array([row[i] for i in ids], dtype=np.int64)


def load_user_pool(path: Path, *, size: int | tuple[int, int] | None = None) -> UserPool:
    """Read the user's unlabeled images.

    Parameters
    ----------
    path : Path
        A folder of PNG/JPEG files (read in sorted name order; ids are the file names), an
        ``.npy`` array of images, or an ``.npz`` with ``images`` and optional ``ids`` and
        ``labels`` (never unpickled).
    size : int or (height, width), optional
        Resize every image of a folder to this size; needed when the files differ in size.

    Returns
    -------
    UserPool
        Grayscale folders give (n, H, W); any colour file gives (n, H, W, 3) for all.

    Raises
    ------
    ValueError
        Missing path, an empty folder, images of different sizes without ``size``, an
        unreadable image file (named), or a malformed array file.
    """
    path = Path(path)
    if path.is_dir():
        return _pool_from_folder(path, size)
    if not path.is_file():
        raise ValueError(f"pool {path} does not exist; give a folder of PNG/JPEG images or an .npy/.npz file")
    if size is not None:
        raise ValueError(f"pool {path}: size= resizes image files only; resize the array before saving it")
    if path.suffix.lower() not in (".npy", ".npz"):
        raise ValueError(f"pool {path}: unknown file type {path.suffix!r}; give a folder of images, an .npy "
                         f"array of images or an .npz with 'images' (and optional 'ids', 'labels')")
    return _pool_from_arrays(path)


def _pool_from_folder(folder: Path, size: int | tuple[int, int] | None) -> UserPool:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                   and not p.name.startswith("."))
    if not files:
        others = sorted(p.name for p in folder.iterdir())[:5]
        raise ValueError(f"pool folder {folder} holds no PNG/JPEG images (found {others or 'nothing'}); put the "
                         f"images to label in it (files ending in {', '.join(IMAGE_SUFFIXES)})")
    target = None if size is None else ((size, size) if isinstance(size, int) else tuple(size))
    if target is not None and (len(target) != 2 or min(target) < 1):
        raise ValueError(f"size must be a positive int or (height, width), got {size!r}")
    decoded, modes = [], set()
    for file in files:
        try:
            with Image.open(file) as image:
                image.load()
                modes.add("L" if image.mode in ("L", "1", "I;16", "I") else "RGB")
                decoded.append(image.copy())
        except (UnidentifiedImageError, OSError) as exc:
            raise ValueError(f"image file {file} cannot be read ({exc}); replace or remove it") from None
    mode = "RGB" if "RGB" in modes else "L"
    arrays = []
    for file, image in zip(files, decoded):
        image = image.convert(mode)
        if target is not None and image.size != (target[1], target[0]):
            image = image.resize((target[1], target[0]), resample=Image.BILINEAR)
        arrays.append(np.asarray(image, dtype=np.uint8))
    shapes = {a.shape[:2] for a in arrays}
    if len(shapes) > 1:
        first = arrays[0].shape[:2]
        odd = next(i for i, a in enumerate(arrays) if a.shape[:2] != first)
        raise ValueError(f"pool folder {folder}: images differ in size ({files[0].name} is {first[0]}x{first[1]}, "
                         f"{files[odd].name} is {arrays[odd].shape[0]}x{arrays[odd].shape[1]}, height x width); "
                         f"resize them to one size, or pass size=(height, width) to resize on loading")
    return UserPool(images=np.stack(arrays), ids=np.array([f.name for f in files]), paths=tuple(files))


def _pool_from_arrays(path: Path) -> UserPool:
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"pool {path}: cannot be read without unpickling ({exc}); save plain arrays") from None
    except OSError as exc:
        raise ValueError(f"pool {path}: not a valid .npy/.npz file ({exc})") from None
    if isinstance(loaded, np.ndarray):
        images, ids, labels = loaded, None, None
    else:
        with loaded:
            try:
                arrays = {name: loaded[name] for name in loaded.files}
            except ValueError as exc:
                raise ValueError(f"pool {path}: holds pickled objects ({exc}); save plain numeric or "
                                 f"string arrays") from None
        unknown = sorted(set(arrays) - {"images", "ids", "labels"})
        if "images" not in arrays or unknown:
            raise ValueError(f"pool {path}: an .npz pool holds 'images' and optional 'ids' and 'labels'; found "
                             f"{sorted(arrays)}; rename the arrays")
        images, ids, labels = arrays["images"], arrays.get("ids"), arrays.get("labels")
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] not in (1, 3, 4)) or not len(images):
        raise ValueError(f"pool {path}: array 'images' has shape {images.shape}; it must be (n, H, W) or "
                         f"(n, H, W, C) with C = 1, 3 or 4 channels last, and n >= 1")
    if not (images.dtype == np.uint8 or np.issubdtype(images.dtype, np.floating)):
        raise ValueError(f"pool {path}: array 'images' has dtype {images.dtype}; use uint8 (0-255) or float")
    if np.issubdtype(images.dtype, np.floating) and not np.isfinite(images).all():
        raise ValueError(f"pool {path}: array 'images' contains NaN or inf; fix the pixels before labelling")
    n = images.shape[0]
    ids = np.array([str(i) for i in range(n)]) if ids is None else np.asarray(ids).astype(str)
    if ids.shape != (n,):
        raise ValueError(f"pool {path}: array 'ids' has shape {ids.shape}; it needs one id per image, ({n},)")
    values, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"pool {path}: array 'ids' repeats {values[counts > 1][:5].tolist()}; give every image "
                         f"its own id")
    if labels is not None and labels.shape != (n,):
        raise ValueError(f"pool {path}: array 'labels' has shape {labels.shape}; it needs one label per image, ({n},)")
    return UserPool(images=images, ids=ids, labels=labels)


def write_pool_images(folder: Path, images: np.ndarray, ids: Sequence[Any]) -> dict[str, Path]:
    """Save images as PNG files ``<id>.png`` (for labelling tools that show files).

    Parameters
    ----------
    folder : Path
        Created if missing.
    images : ndarray, shape (n, H, W) or (n, H, W, C)
    ids : sequence of n ids (used as file names; must not contain path separators)

    Returns
    -------
    dict
        Pool id -> PNG path.
    """
    folder = Path(folder)
    if len(images) != len(ids):
        raise ValueError(f"{len(images)} images but {len(ids)} ids; give one id per image")
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for image, pool_id in zip(images, ids):
        name = str(pool_id)
        if "/" in name or "\\" in name or name in ("", ".", ".."):
            raise ValueError(f"pool id {name!r} cannot be a file name; use ids without path separators")
        target = folder / f"{name}.png"
        data = image_png(image, min_side=0)
        atomic_write(target, lambda handle, data=data: handle.write(data))
        written[name] = target
    return written


def image_png(image: np.ndarray, *, min_side: int = 160) -> bytes:
    """PNG bytes of one image, enlarged (nearest neighbour) so its shorter side is at least ``min_side``.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C)
        uint8, or float (values in [0, 1] are scaled by 255; other ranges are min-max scaled).
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3):
        raise ValueError(f"an image must have shape (H, W) or (H, W, C), got {array.shape}")
    if array.dtype != np.uint8:
        array = array.astype(np.float64)
        low, high = float(array.min()), float(array.max())
        if low >= 0 and high <= 1:
            array = array * 255.0
        elif high > low:
            array = (array - low) / (high - low) * 255.0
        array = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    picture = Image.fromarray(array)
    side = min(picture.size)
    if min_side and side < min_side:
        factor = int(np.ceil(min_side / side))
        picture = picture.resize((picture.size[0] * factor, picture.size[1] * factor), resample=Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- reading the user's files
def _read_text_file(path: Path, what: str, *, fix: str) -> str:
    """The UTF-8 text of ``path``; a folder, an unreadable, binary or non-UTF-8 file is a ``ValueError``.

    Parameters
    ----------
    path : Path
    what : str
        What the file is, for the message ("label file").
    fix : str
        What to do about an unreadable file, for the message.
    """
    if path.is_dir():
        raise ValueError(f"{what} {path} is a folder, not a file; {fix}")
    if not path.is_file():
        raise ValueError(f"{what} {path} does not exist; check the path")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{what} {path} cannot be read ({exc.strerror or exc}); {fix}") from None
    if b"\0" in data:
        raise ValueError(f"{what} {path} is a binary file (it holds NUL bytes), not text; {fix}")
    try:
        return data.decode("utf-8-sig")  # a byte order mark (spreadsheet exports) is dropped
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ValueError(f"{what} {path}, line {line}: not UTF-8 text (byte {exc.start}); save it as UTF-8 "
                         f"text, or {fix}") from None


def _csv_rows(path: Path, text: str, what: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the rows of CSV ``text`` (blank lines skipped), each row with its line number.

    Raises
    ------
    ValueError
        A repeated column name, malformed quoting, or a row with more or fewer fields than the
        header (a comma inside an unquoted field would shift the columns after it); the message
        names the file and the line.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        numbered = [(reader.line_num, row) for row in reader if row]
    except csv.Error as exc:
        raise ValueError(f"{what} {path}, line {reader.line_num}: not valid CSV ({exc}); check the quotes "
                         f"on that line") from None
    if not numbered:
        return [], []
    (_, header), rows = numbered[0], numbered[1:]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ValueError(f"{what} {path}, line 1: column {repeated} appears more than once in the header "
                         f"{header}; give every column its own name")
    for line, row in rows:
        if len(row) != len(header):
            raise ValueError(f"{what} {path}, line {line}: {len(row)} fields {row[:6]} under the {len(header)} "
                             f"columns {header}; give every row one value per column (quote a value that "
                             f"contains a comma)")
    return header, rows


# --------------------------------------------------------------------------- the label store
class LabelStore:
    """Labels of pool points, written to a CSV after every change.

    Parameters
    ----------
    path : Path
        The CSV (``pool_id,label,labelled_at``); read if it exists, so a new store on the same
        file continues where the last one stopped.
    classes : sequence
        The class names (``str`` of each entry); labels must be one of them.
    pool_ids : iterable, optional
        The ids that may be labelled; others are refused.

    Raises
    ------
    ValueError
        An existing file that is a folder, binary or not UTF-8, with other columns, a row with
        more or fewer fields than the header, an empty or repeated id, an id outside
        ``pool_ids``, or a label not in ``classes``: the message names the file, the line and
        the fix. Reading writes nothing.
    """

    def __init__(self, path: Path, classes: Sequence[Any], *, pool_ids: Iterable[Any] | None = None):
        self.path = Path(path)
        self.classes: tuple[str, ...] = tuple(str(c) for c in classes)
        if not self.classes or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes must be a non-empty list of distinct names, got {list(classes)}")
        self.pool_ids = None if pool_ids is None else frozenset(str(i) for i in pool_ids)
        self._rows: dict[str, tuple[str, str]] = self._read() if self.path.exists() else {}

    # ------------------------------------------------------------------ reading
    def _read(self) -> dict[str, tuple[str, str]]:
        fix = "give a new file name for the labels, or repair the file"
        text = _read_text_file(self.path, "label file", fix=fix)
        if not text.strip():
            return {}
        header, rows = _csv_rows(self.path, text, "label file")
        if tuple(header) != LABEL_COLUMNS:
            raise ValueError(f"label file {self.path}: columns {header}, expected "
                             f"{', '.join(LABEL_COLUMNS)}; {fix}")
        read: dict[str, tuple[str, str]] = {}
        for line, (pool_id, label, labelled_at) in rows:
            where = f"label file {self.path}, line {line}"
            if pool_id in read:
                raise ValueError(f"{where}: pool_id {pool_id!r} appears more than once; keep one row per id (the "
                                 f"store replaces a relabelled item's row)")
            if not pool_id:
                raise ValueError(f"{where}: empty pool id; delete the row, or write the id of its pool point")
            if self.pool_ids is not None and pool_id not in self.pool_ids:
                raise ValueError(f"{where}: pool id {pool_id!r} is not in the pool; delete the row, or open the "
                                 f"store with the pool the file was labelled on")
            if label not in self.classes:
                raise ValueError(f"{where}: label {label!r} of {pool_id!r} is not one of the classes "
                                 f"{list(self.classes)}; correct the file or the classes")
            read[pool_id] = (label, labelled_at)
        return read

    @property
    def labels(self) -> dict[str, str]:
        """Pool id -> class name, in the order first labelled (a copy)."""
        return {pool_id: label for pool_id, (label, _) in self._rows.items()}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, pool_id: Any) -> bool:
        return str(pool_id) in self._rows

    def get(self, pool_id: Any) -> str | None:
        """The class name of ``pool_id``, or None while unlabelled."""
        row = self._rows.get(str(pool_id))
        return None if row is None else row[0]

    def pending(self, batch_ids: Iterable[Any]) -> list[str]:
        """The ids of ``batch_ids`` not labelled yet, in batch order."""
        return [str(i) for i in batch_ids if str(i) not in self._rows]

    def class_indices(self, pool_ids: Iterable[Any]) -> np.ndarray:
        """Integer class indices (positions in ``classes``) of labelled ids, e.g. to train on."""
        position = {c: i for i, c in enumerate(self.classes)}
        missing = self.pending(pool_ids)
        if missing:
            raise ValueError(f"pool ids {missing[:5]} are not labelled yet; label them first")
        return np.array([position[self._rows[str(i)][0]] for i in pool_ids], dtype=np.int64)

    # ------------------------------------------------------------------ writing
    def class_name(self, label: Any) -> str:
        """The class name of ``label`` (a name, or an integer class index); refuses unknown classes."""
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            if not 0 <= int(label) < len(self.classes):
                raise ValueError(f"class index {int(label)} is out of range 0..{len(self.classes) - 1} "
                                 f"(classes {list(self.classes)})")
            return self.classes[int(label)]
        name = str(label)
        if name not in self.classes:
            close = difflib.get_close_matches(name, self.classes, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown class {name!r}.{hint} Valid classes: {', '.join(self.classes)}")
        return name

    def check_pool_id(self, pool_id: Any) -> str:
        """``pool_id`` as str; refuses an empty id, and ids outside ``pool_ids`` (when the store was given them)."""
        key = str(pool_id)
        if not key:
            raise ValueError("empty pool id; every label needs the id of its pool point")
        if self.pool_ids is not None and key not in self.pool_ids:
            raise ValueError(f"pool id {key!r} is not in the pool; label only the proposed pool points")
        return key

    def label(self, pool_id: Any, label: Any) -> None:
        """Give ``pool_id`` the class ``label`` (replacing an earlier label) and save the file.

        Giving a point the class it already has changes nothing: neither the file nor its timestamp.
        """
        self.label_many([(pool_id, label)])

    def label_many(self, pairs: Iterable[tuple[Any, Any]]) -> int:
        """Label several ids at once: all are checked first, then the file is written once.

        A pair that repeats a point's current class is a no-op: its row keeps its place and its
        ``labelled_at``, and when no pair changes anything the file is not written at all (a
        re-import, or Run All relabelling with the oracle, leaves ``labels.csv`` untouched).

        Returns
        -------
        int
            Number of labels that are new or changed.
        """
        checked = [(self.check_pool_id(pool_id), self.class_name(label)) for pool_id, label in pairs]
        last = {}  # an id given twice keeps its last label, as if labelled one after the other
        for pool_id, name in checked:
            last.pop(pool_id, None)
            last[pool_id] = name
        changed = [(pool_id, name) for pool_id, name in last.items() if self.get(pool_id) != name]
        if not changed:
            return 0
        stamp = now_iso()
        for pool_id, name in changed:
            self._rows.pop(pool_id, None)  # a relabelled item moves to the end
            self._rows[pool_id] = (name, stamp)
        self._save()
        return len(changed)

    def label_all(self, batch_ids: Sequence[Any], truth: Sequence[Any]) -> int:
        """The oracle: label ``batch_ids`` with the known ``truth`` (names or class indices), no widgets.

        Parameters
        ----------
        batch_ids : sequence of ids
        truth : sequence, same length
            The true label of each id.

        Returns
        -------
        int
            Number of labels that are new or changed (0 when the oracle labelled these ids before).
        """
        if len(batch_ids) != len(truth):
            raise ValueError(f"{len(batch_ids)} ids but {len(truth)} true labels; give one label per id")
        return self.label_many(zip(batch_ids, truth))

    def _save(self) -> None:
        table = pd.DataFrame([(p, l, t) for p, (l, t) in self._rows.items()], columns=list(LABEL_COLUMNS))
        atomic_write_text(self.path, table.to_csv(index=False))


# --------------------------------------------------------------------------- Label Studio
def label_studio_config(classes: Sequence[Any]) -> str:
    """A Label Studio labelling configuration: one image, one single-choice question over ``classes``."""
    choices = "\n".join(f'    <Choice value="{_xml_escape(str(c))}"/>' for c in classes)
    return (f'<View>\n  <Image name="{LABEL_STUDIO_IMAGE}" value="${LABEL_STUDIO_IMAGE}"/>\n'
            f'  <Choices name="{LABEL_STUDIO_CHOICES}" toName="{LABEL_STUDIO_IMAGE}" choice="single" '
            f'showInline="true">\n{choices}\n  </Choices>\n</View>\n')


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def local_files_url(path: Path, document_root: Path) -> str:
    """URL under which Label Studio's local file serving shows ``path`` (``/data/local-files/?d=...``).

    Label Studio serves files below ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT`` when started with
    ``LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true``, to projects with a Local Storage whose path
    holds them (Settings > Cloud Storage > Local files, or ``POST /api/storages/localfiles/``);
    ``document_root`` is that folder.
    """
    from urllib.parse import quote

    relative = Path(path).resolve().relative_to(Path(document_root).resolve())
    return f"/data/local-files/?d={quote(relative.as_posix())}"


def label_studio_tasks(batch: pd.DataFrame, image_url: Mapping[str, str] | Callable[[str], str], *,
                       pool_probs: Mapping[str, np.ndarray] | None = None,
                       classes: Sequence[Any] | None = None) -> list[dict]:
    """A proposed batch as Label Studio tasks (its JSON import format), with the models' pre-labels.

    Label Studio's Community Edition has no active-learning loop of its own; what it offers is
    to show each task's ``predictions`` and to sort the Data Manager by any ``data`` field. Each
    task therefore carries the strategy's score (``data.score``: DIAM's informativeness for
    ``select --strategy diam``; sort by it, or by ``data.rank``) and one prediction per target
    model, whose ``model_version`` names the model and whose ``score`` is that model's
    probability of its predicted class.

    Parameters
    ----------
    batch : pandas.DataFrame
        A batch table (:func:`diamlib.userfiles.batchfile.batch_table` or ``read_batch_csv``).
    image_url : mapping or callable
        Pool id -> the image's URL or path as Label Studio should load it.
    pool_probs : mapping str -> ndarray, shape (n_pool, n_classes), optional
        Each target model's probabilities on the pool, row-aligned with the evidence files
        (``batch.pool_index`` picks the row): the ``pool_probs`` array of its evidence file.
    classes : sequence, optional
        The class names, in the order of the probabilities' columns (needed with ``pool_probs``);
        the same as :func:`label_studio_config`'s.

    Returns
    -------
    list of dict
        ``{"id": rank, "data": {"image": url, "pool_id", "pool_index", "rank", "score"},
        "predictions": [{"model_version", "score", "result"}, ...]}`` per point, best first;
        ``score`` is left out where the batch has none, ``predictions`` without ``pool_probs``.
        ``pool_id`` comes back in Label Studio's export (:func:`import_label_studio_json`).

    Raises
    ------
    ValueError
        A pool id without an image URL; ``pool_probs`` without ``classes``, with a number of
        columns other than the number of classes, or with fewer rows than a ``pool_index``.
    """
    lookup = image_url if callable(image_url) else image_url.__getitem__
    models = _checked_model_probs(batch, pool_probs, classes)
    names = [str(c) for c in classes] if classes is not None else []
    tasks = []
    for row in batch.itertuples(index=False):
        pool_id = str(row.pool_id)
        try:
            url = str(lookup(pool_id))
        except KeyError:
            raise ValueError(f"no image URL for pool id {pool_id!r}; give one for every id of the batch") from None
        data = {LABEL_STUDIO_IMAGE: url, "pool_id": pool_id, "pool_index": int(row.pool_index), "rank": int(row.rank)}
        if pd.notna(row.score):
            data["score"] = float(row.score)
        task = {"id": int(row.rank), "data": data}
        if models:
            task["predictions"] = [_prediction(name, probs[int(row.pool_index)], names)
                                   for name, probs in models.items()]
        tasks.append(task)
    return tasks


def _checked_model_probs(batch: pd.DataFrame, pool_probs: Mapping[str, np.ndarray] | None,
                         classes: Sequence[Any] | None) -> dict[str, np.ndarray]:
    if not pool_probs:
        return {}
    if classes is None:
        raise ValueError("pool_probs needs the class names: pass classes=[...] in the order of the probabilities' "
                         "columns")
    checked = {}
    needed = int(batch["pool_index"].max()) + 1 if len(batch) else 0
    for name, probs in pool_probs.items():
        probs = np.asarray(probs, dtype=np.float64)
        if probs.ndim != 2 or probs.shape[1] != len(classes):
            raise ValueError(f"pool_probs of {name!r} has shape {probs.shape}; expected (n_pool, {len(classes)}), one "
                             f"column per class of classes")
        if probs.shape[0] < needed:
            raise ValueError(f"pool_probs of {name!r} has {probs.shape[0]} rows but the batch names pool_index "
                             f"{needed - 1}; give the probabilities on the whole pool, in the evidence files' order")
        checked[str(name)] = probs
    return checked


def _prediction(model: str, probs: np.ndarray, classes: Sequence[str]) -> dict:
    """One model's pre-label of a task, as a Label Studio prediction."""
    best = int(np.argmax(probs))
    return {"model_version": model, "score": float(probs[best]),
            "result": [{"from_name": LABEL_STUDIO_CHOICES, "to_name": LABEL_STUDIO_IMAGE, "type": "choices",
                        "value": {"choices": [classes[best]]}}]}


def write_label_studio_tasks(path: Path, batch: pd.DataFrame, image_url: Mapping[str, str] | Callable[[str], str],
                             *, pool_probs: Mapping[str, np.ndarray] | None = None,
                             classes: Sequence[Any] | None = None) -> Path:
    """Write :func:`label_studio_tasks` as a JSON array to ``path`` (atomically), for Label Studio's import."""
    tasks = label_studio_tasks(batch, image_url, pool_probs=pool_probs, classes=classes)
    atomic_write_text(Path(path), json.dumps(tasks, indent=2))
    return Path(path)


# --------------------------------------------------------------------------- importing labels
def import_labels_csv(path: Path, store: LabelStore, *, batch_ids: Iterable[Any] | None = None) -> int:
    """Label from a CSV with columns ``pool_id`` and ``label`` (class names); all rows are checked first.

    Other columns are ignored. Importing labels the store already has changes nothing.

    Parameters
    ----------
    path : Path
        A UTF-8 CSV file with a header line.
    store : LabelStore
    batch_ids : iterable, optional
        If given, every id of the file must be in it.

    Returns
    -------
    int
        Number of labels imported that are new or changed (a re-import returns 0 and leaves the
        store's file untouched).

    Raises
    ------
    ValueError
        A missing file, a folder, a binary or non-UTF-8 file, missing columns, a row with more
        or fewer fields than the header, empty or repeated ids, ids outside the batch or pool,
        unknown classes; the message names the file, the line and the fix. Nothing is stored then.
    """
    path = Path(path)
    text = _read_text_file(path, "label file", fix="export the labels as a CSV file with pool_id and label columns")
    header, rows = _csv_rows(path, text, "label file")
    missing = [c for c in ("pool_id", "label") if c not in header]
    if missing:
        raise ValueError(f"label file {path}: columns {missing} missing (found {header}); it needs "
                         f"pool_id and label columns")
    id_column, label_column = header.index("pool_id"), header.index("label")
    pairs = [(f"line {line}", row[id_column], row[label_column]) for line, row in rows]
    return store.label_many(_checked_pairs(f"label file {path}", pairs, store, batch_ids))


#: What to do about a Label Studio export that is not a list of tasks as written by write_label_studio_tasks.
_LABEL_STUDIO_FIX = ("import the tasks written by write_label_studio_tasks into Label Studio and export the "
                     "project as JSON (not JSON-MIN)")


def import_label_studio_json(path: Path, store: LabelStore, *, batch_ids: Iterable[Any] | None = None) -> int:
    """Label from a Label Studio JSON export of tasks made by :func:`write_label_studio_tasks`.

    Each task's latest annotation that is not cancelled gives its label: the first value of
    its ``choices`` result. Tasks without such an annotation stay pending.

    Returns
    -------
    int
        Number of labels imported that are new or changed (a re-import returns 0 and leaves the
        store's file untouched).

    Raises
    ------
    ValueError
        Not a JSON list of tasks; a task, its ``data``, an annotation or a result that is not a
        JSON object; ``annotations``, ``result`` or ``choices`` that is not a list; a task
        without ``data.pool_id``; ids outside the batch or pool; unknown classes. The message
        names the file, the task and the fix. Nothing is stored then.
    """
    path = Path(path)
    text = _read_text_file(path, "Label Studio export", fix=_LABEL_STUDIO_FIX)
    try:
        tasks = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Label Studio export {path}: not JSON ({exc}); {_LABEL_STUDIO_FIX}") from None
    if not isinstance(tasks, list):
        raise ValueError(f"Label Studio export {path}: a JSON {type(tasks).__name__}, not a list of tasks; "
                         f"{_LABEL_STUDIO_FIX}")
    pairs = []
    for number, task in enumerate(tasks):
        where = f"task {number}" + (f" (id {task.get('id')})" if isinstance(task, dict) else "")
        pool_id, choice = _task_choice(task, f"Label Studio export {path}, {where}")
        if choice is not None:
            pairs.append((where, pool_id, choice))
    return store.label_many(_checked_pairs(f"Label Studio export {path}", pairs, store, batch_ids))


def _task_choice(task: Any, where: str) -> tuple[str, str | None]:
    """A Label Studio task's pool id and the choice of its latest annotation that is not cancelled (or None)."""
    def refuse(problem: str) -> ValueError:
        return ValueError(f"{where}: {problem}; {_LABEL_STUDIO_FIX}")

    def kind(value: Any) -> str:
        return "null" if value is None else type(value).__name__

    if not isinstance(task, dict):
        raise refuse(f"a JSON {kind(task)}, not a task object")
    data = task.get("data")
    if not isinstance(data, dict):
        raise refuse(f"data is a JSON {kind(data)}, not an object with pool_id")
    pool_id = data.get("pool_id")
    if pool_id is None:
        raise refuse("no data.pool_id")
    if not isinstance(pool_id, (str, int)) or isinstance(pool_id, bool):
        raise refuse(f"data.pool_id is a JSON {kind(pool_id)}, not a string")
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
        raise refuse("annotations is not a list of objects")
    kept = [a for a in annotations if not a.get("was_cancelled")]
    kept.sort(key=lambda a: str(a.get("updated_at") or a.get("created_at") or ""))
    for annotation in reversed(kept):
        name = f"annotation {annotation['id']}" if "id" in annotation else "an annotation"
        results = annotation.get("result") or []
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise refuse(f"the result of {name} is not a list of objects")
        for result in results:
            if result.get("type") != "choices":
                continue
            value = result.get("value")
            choices = value.get("choices") if isinstance(value, dict) else None
            if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
                raise refuse(f"{name} has a choices result whose value.choices is not a list of class names")
            if choices:
                return str(pool_id), choices[0]
    return str(pool_id), None


def _checked_pairs(source: str, pairs: list[tuple[str, Any, Any]], store: LabelStore,
                   batch_ids: Iterable[Any] | None) -> list[tuple[str, str]]:
    """``(where, pool_id, label)`` of an imported file checked as the store would check them.

    ``source`` names the file ("label file labels.csv"), ``where`` the pair's place in it ("line 3",
    "task 2 (id 3)"); the first bad pair is a ``ValueError`` naming both and the fix.
    """
    allowed = None if batch_ids is None else {str(i) for i in batch_ids}
    seen: dict[str, str] = {}
    checked = []
    for place, pool_id, label in pairs:
        where = f"{source}, {place}"
        pool_id = str(pool_id)
        if not pool_id:
            raise ValueError(f"{where}: empty pool_id; give the id of every labelled point")
        if pool_id in seen:
            raise ValueError(f"{where}: pool_id {pool_id!r} appears twice (also at {seen[pool_id]}); keep one "
                             f"label per point")
        if allowed is not None and pool_id not in allowed:
            raise ValueError(f"{where}: pool_id {pool_id!r} is not in the proposed batch; check the file belongs "
                             f"to this batch")
        try:
            checked.append((store.check_pool_id(pool_id), store.class_name(str(label))))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        seen[pool_id] = place
    return checked
