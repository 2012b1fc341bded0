"""Cache-sized, padded tiles of image batches (the filters' working sets)."""

from __future__ import annotations

import numpy as np

from ._threads import run_chunks

# scipy.ndimage boundary modes offered, and the numpy.pad mode that extends
# an image the same way (checked in the tests, including pads wider than the
# image).
_BOUNDARY_MODES = {
    "reflect": "symmetric",  # d c b a | a b c d | d c b a
    "mirror": "reflect",  # d c b | a b c d | c b a
    "nearest": "edge",  # a a a | a b c d | d d d
    "wrap": "wrap",  # b c d | a b c d | a b c
}

# Working-set target of one tile of the filters (bytes per array).
_TILE_BYTES = 1 << 17


class _FlatTiles:
    """Cache-sized, padded tiles of a batch, as flat contiguous buffers.

    A window filter needs every pixel's ``kh x kw`` neighbourhood. Each tile
    (several whole small images, or a band of rows of one image) is copied,
    extended at the image borders like ``scipy.ndimage`` ``mode``, into a
    buffer (one per thread) of padded rows ``Wp = w + kw - 1`` pixels wide. Flattened,
    the neighbour ``(dy, dx)`` of every pixel is then the same buffer at a
    fixed offset ``(dy * Wp + dx) * channels``, so a filter is a few
    additions (or minimum/maximum) of *contiguous* 1-D slices -- about
    twice as fast in numpy as the same operations on strided 4-D views, and
    no padded copy of the whole batch is made. Outputs are computed on the
    padded grid (the few positions past a row's end are discarded) and
    copied to the result with :meth:`store`.
    """

    def __init__(self, X, kh, kw, mode, tile_bytes=None):
        n, h, w, c = X.shape
        self.X, self.kh, self.kw = X, kh, kw
        self.h, self.w, self.c = h, w, c
        self.bw = kw // 2
        np_mode = _BOUNDARY_MODES[mode]
        self.ridx = np.pad(np.arange(h), (kh // 2, kh - 1 - kh // 2), mode=np_mode)
        self.cidx = np.pad(np.arange(w), (self.bw, kw - 1 - self.bw), mode=np_mode)
        self.wp = w + kw - 1
        row = self.wp * c
        tile = (_TILE_BYTES if tile_bytes is None else tile_bytes) // X.itemsize
        self.n_img = max(1, tile // (row * (h + kh - 1)))
        self.n_rows = h if self.n_img > 1 else max(1, tile // row - (kh - 1))
        self.n_img = min(self.n_img, n)
        self.n_rows = min(self.n_rows, h)
        self.size = self.n_img * (self.n_rows + kh - 1) * row
        self.max_offset = ((kh - 1) * self.wp + (kw - 1)) * c
        # Border columns: (destination, source) column pairs in the tile.
        bw = self.bw
        self.col_copies = [
            (j, bw + int(self.cidx[j]))
            for j in list(range(bw)) + list(range(bw + w, self.wp))
        ]
        self.row_runs = {}

    def _runs(self, y, rp):
        """Runs ``(start, stop, source row)`` of consecutive source rows."""
        key = (y, rp)
        if key not in self.row_runs:
            src = self.ridx[y : y + rp]
            breaks = np.flatnonzero(np.diff(src) != 1) + 1
            starts, stops = np.r_[0, breaks], np.r_[breaks, rp]
            self.row_runs[key] = [
                (int(a), int(b), int(src[a]))
                for a, b in zip(starts, stops, strict=True)
            ]
        return self.row_runs[key]

    def offset(self, dy, dx):
        """Flat offset of the neighbour ``(dy, dx)`` (window coordinates)."""
        return (dy * self.wp + dx) * self.c

    def specs(self):
        """The tiles: ``(images, y, rows)``, output rows ``y:y + rows``."""
        out = []
        for i in range(0, self.X.shape[0], self.n_img):
            images = slice(i, min(i + self.n_img, self.X.shape[0]))
            for y in range(0, self.h, self.n_rows):
                out.append((images, y, min(self.n_rows, self.h - y)))
        return out

    def fill(self, spec, buf):
        """Copy the padded tile ``spec`` into ``buf``.

        Returns ``(flat, n_out)``: the padded tile (a view of ``buf``) and
        the number of flat positions at which outputs are needed.
        """
        X, c, w, bw = self.X, self.c, self.w, self.bw
        images, y, rows = spec
        m = images.stop - images.start
        rp = rows + self.kh - 1
        flat = buf[: m * rp * self.wp * c]
        tile = flat.reshape(m, rp, self.wp, c)
        for start, stop, r0 in self._runs(y, rp):
            tile[:, start:stop, bw : bw + w] = X[images, r0 : r0 + stop - start]
        for dst, src in self.col_copies:
            tile[:, :, dst] = tile[:, :, src]
        return flat, flat.size - self.max_offset

    def for_each(self, work, n_scratch):
        """Call ``work(spec, flat, n_out, scratch)`` for every tile.

        Tiles are shared out among threads (:mod:`._threads`); each thread
        has its own tile buffer and ``n_scratch`` scratch buffers of
        :attr:`size` entries.
        """

        def run(chunk):
            dtype = self.X.dtype
            buf = np.empty(self.size, dtype=dtype)
            scratch = [np.empty(self.size, dtype=dtype) for _ in range(n_scratch)]
            for spec in chunk:
                flat, n_out = self.fill(spec, buf)
                work(spec, flat, n_out, scratch)

        run_chunks(run, self.specs())

    def store(self, out, spec, result, clip=False):
        """Copy the valid outputs of a tile to ``out`` (optionally clipped).

        ``result`` is a 1-D buffer of at least the tile's padded size (like
        :attr:`buf`) holding the outputs at flat positions ``0 .. n_out -
        1``; the rest is ignored.
        """
        images, y, rows = spec
        m = images.stop - images.start
        rp = rows + self.kh - 1
        full = m * rp * self.wp * self.c
        grid = result[:full].reshape(m, rp, self.wp, self.c)[:, :rows, : self.w]
        dst = out[images, y : y + rows]
        if clip:
            np.clip(grid, 0.0, 1.0, out=dst)
        else:
            dst[...] = grid
