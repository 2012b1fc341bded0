"""Walking folders for image files: the one walker of every loader.

Symbolic links are followed but bounded (a folder is visited once, a link
to a folder above the root is not followed), special files are set apart
(opening a FIFO would block), hidden names skipped, and a folder that
cannot be listed is an error naming it.
"""

from __future__ import annotations

import os
import stat
import warnings

__all__ = []


def _is_hidden(name):
    # Dot files include macOS "._name.jpg" resource forks, which carry an
    # image extension but are not images.
    return name.startswith(".") or name in ("__MACOSX", "__pycache__")


def _walk_files(root, hidden=_is_hidden):
    """Every file below ``root``: the one folder walker of all the loaders.

    Symbolic links to files and to folders are followed; a folder reached a
    second time (a link cycle, or two links to one folder) is walked once,
    and a link to a folder that holds ``root`` (``..`` and above) is not
    followed, with one warning: the walk never climbs above ``root``.
    Hidden names are skipped. Only regular files are returned: FIFOs,
    devices, sockets and broken links are returned apart, so that the caller
    can count and report them (opening a FIFO would block).

    A folder that cannot be listed (no permission) is an error naming it
    (:class:`PermissionError`), not a silent gap in the data.

    Returns
    -------
    files : list of str
        Regular files, sorted (folders in sorted order, files sorted within).
    skipped : list of str
        Non-regular files and broken links.
    n_hidden : int
        Hidden files left out.
    """
    files, skipped, n_hidden = [], [], 0
    seen, above = set(), []
    real_root = os.path.realpath(root)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True,
                                                onerror=_raise_unlisted):
        try:
            st = os.stat(dirpath)
            key = (st.st_dev, st.st_ino)
        except OSError:
            dirnames[:] = []
            continue
        if key in seen:  # a link cycle or a second link to a folder
            dirnames[:] = []
            continue
        seen.add(key)
        kept = []
        for d in sorted(d for d in dirnames if not hidden(d)):
            full = os.path.join(dirpath, d)
            if os.path.islink(full) and _holds(os.path.realpath(full), real_root):
                above.append(full)
            else:
                kept.append(d)
        dirnames[:] = kept
        for name in sorted(filenames):
            if hidden(name):
                n_hidden += 1
                continue
            full = os.path.join(dirpath, name)
            try:
                mode = os.stat(full).st_mode
            except OSError:  # broken link, vanished file
                skipped.append(full)
                continue
            if stat.S_ISREG(mode):
                files.append(full)
            elif not stat.S_ISDIR(mode):
                skipped.append(full)
    if above:
        warnings.warn(
            f"Did not follow {len(above)} symbolic link(s) in {root!r} to a "
            f"folder holding it (the search never climbs above the folder "
            f"given): {', '.join(repr(p) for p in above[:3])}"
            f"{' ...' if len(above) > 3 else ''}.",
            UserWarning,
            stacklevel=4,
        )
    return files, skipped, n_hidden


def _holds(folder, path):
    """Whether real path ``folder`` is ``path`` or one of its ancestors."""
    folder = folder.rstrip(os.sep) + os.sep
    return (path.rstrip(os.sep) + os.sep).startswith(folder)


def _raise_unlisted(exc):
    """``os.walk``'s onerror: a folder that cannot be listed is an error."""
    where = exc.filename if exc.filename is not None else "?"
    if isinstance(exc, PermissionError):
        raise PermissionError(
            f"cannot read folder {where!r}: permission denied") from exc
    raise OSError(f"cannot read folder {where!r}: {exc.strerror or exc}") from exc


def _warn_skipped(skipped, where, stacklevel=3):
    """One warning for the special files and broken links a walk skipped."""
    if not skipped:
        return
    few = ", ".join(repr(p) for p in skipped[:3])
    more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
    warnings.warn(
        f"Skipped {len(skipped)} file(s) in {where!r} that are not regular "
        f"files (FIFO, device, socket or broken link): {few}{more}.",
        UserWarning,
        stacklevel=stacklevel,
    )
