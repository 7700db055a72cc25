"""The runs layout's table scan compiled with numba: one pass, no temporaries.

Part of archive, beside ``mih`` (which keeps the pure-numpy scan as the reference the tests compare
against). The numpy scan makes about a dozen passes over the ~3M run words a stage-one query touches
at 100M hashes (expand the bucket ranges, gather the words, filter on the sketch, find each survivor's
probe, …); this loop reads each word once and keeps nothing but the hits. Same arithmetic, same result:
``scan_runs`` returns the (query row, slot, distance) triples ``MultiIndexHashIndex._search_runs_numpy``
returns for one table, minus blank slots and slots past the end (which that one drops later).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["scan_runs", "warm_up"]

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


# hits the first output buffer holds (more: the scan runs again with room for all)
FIRST_CAP = 4096
# how far ahead each phase asks for the cache line it will need (a miss costs ~100 loop iterations' time)
AHEAD = 16


def _prefetch_typer(typingctx: object, arr: types.Array, idx: types.Integer) -> object:
    """Ask the CPU to fetch ``arr[idx]``'s cache line (LLVM's prefetch; no fault if out of range)."""
    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: list[object]) -> object:
        aryty = signature.args[0]  # type: ignore[attr-defined]
        ary = context.make_array(aryty)(context, builder, args[0])  # type: ignore[attr-defined]
        i8p = ir.IntType(8).as_pointer()
        ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), i8p)
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")  # type: ignore[no-untyped-call]
        builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()  # type: ignore[attr-defined]
    return types.void(arr, idx), codegen


_prefetch: Any = intrinsic(_prefetch_typer)


@njit(cache=True, nogil=True, inline="always")
def _popcount(x: np.uint64) -> np.int64:
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return np.int64((x * _H01) >> np.uint64(56))


@njit(cache=True, nogil=True)
def _scan(codes: npt.NDArray[np.uint64], words: npt.NDArray[np.uint32], low: npt.NDArray[np.uint8],
          starts: npt.NDArray[np.int64], counts: npt.NDArray[np.int64], probe_rows: npt.NDArray[np.int64],
          probe_left: npt.NDArray[np.int64], sketches: npt.NDArray[np.uint64], hashes: npt.NDArray[np.uint64],
          radius: int, run_max: int, allowance: npt.NDArray[np.int64], kept_j: npt.NDArray[np.int64],
          kept_row: npt.NDArray[np.int64], out_rows: npt.NDArray[np.int64], out_pos: npt.NDArray[np.int64],
          out_dist: npt.NDArray[np.int64]) -> int:
    # Three phases, each a branch-free loop of independent loads (the results are compacted by
    # writing every candidate and advancing the count only for a kept one): a mispredicted branch
    # on a loaded value would throw away the cache misses in flight behind it.
    # 1. every word of every probed bucket, filtered on its sketch
    n = 0
    n_probes = starts.shape[0]
    for p in range(n_probes):
        _prefetch(words, starts[min(p + AHEAD, n_probes - 1)])
        row = probe_rows[p]
        limit = probe_left[p]
        sketch = sketches[row]
        for j in range(starts[p], starts[p] + counts[p]):
            w = np.uint64(words[j])
            kept_j[n] = j
            kept_row[n] = row
            n += _popcount((w >> np.uint64(8)) ^ sketch) <= limit + allowance[np.int64(w & np.uint64(15))]
    # 2. the kept runs' first slots, then their first hashes
    for i in range(n):
        ahead = kept_j[min(i + AHEAD, n - 1)]
        _prefetch(words, ahead)
        _prefetch(low, ahead * 3)
        j = kept_j[i]
        w = np.uint64(words[j])
        kept_j[i] = (np.int64((w >> np.uint64(4)) & np.uint64(15)) << 24 | np.int64(low[j, 0])
                     | np.int64(low[j, 1]) << 8 | np.int64(low[j, 2]) << 16)
        kept_row[i] = kept_row[i] << 4 | np.int64(w & np.uint64(15))  # the row and the run's radius field
    m = 0
    for i in range(n):
        _prefetch(codes, kept_j[min(i + AHEAD, n - 1)])
        first = kept_j[i]
        row, spread = kept_row[i] >> 4, allowance[kept_row[i] & 15]  # read before m == i overwrites them
        kept_j[m] = first
        kept_row[m] = row
        m += _popcount(codes[first] ^ hashes[row]) - spread <= radius
    # 3. the slots of the runs left (a slot past a run is checked all the same)
    cap = out_rows.shape[0]
    n_codes = codes.shape[0]
    hits = 0
    for i in range(m):
        ahead = kept_j[min(i + AHEAD, m - 1)]
        _prefetch(codes, ahead)
        _prefetch(codes, ahead + run_max - 1)
        first = kept_j[i]
        row = kept_row[i]
        h = hashes[row]
        for pos in range(first, min(first + run_max, n_codes)):
            c = codes[pos]
            d = _popcount(c ^ h)
            k = min(hits, cap - 1)
            out_rows[k] = row
            out_pos[k] = pos
            out_dist[k] = d
            hits += (d <= radius) & (c != np.uint64(0))
    return hits


def scan_runs(codes: npt.NDArray[np.uint64], words: npt.NDArray[np.uint32], low: npt.NDArray[np.uint8],
              offsets: npt.NDArray[np.uint32], probes: npt.NDArray[np.int64], probe_rows: npt.NDArray[np.int64],
              probe_left: npt.NDArray[np.int64], sketches: npt.NDArray[np.uint64], hashes: npt.NDArray[np.uint64],
              radius: int, run_max: int, allowance: npt.NDArray[np.int64]) -> tuple[
                  npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(query row, slot, distance) of every non-blank slot within ``radius`` in the runs the probes keep.

    ``probes`` are bucket keys (best in key order, so the table is read front to back), ``probe_rows``
    their query rows, ``probe_left`` the radius minus the key bits each probe flipped, ``sketches`` each
    query hash's sketch and ``allowance`` a run's radius field as a bit allowance.
    """
    starts = np.take(offsets, probes).astype(np.int64)
    counts = np.take(offsets, probes + 1).astype(np.int64) - starts
    total = int(counts.sum())
    kept_j, kept_row = np.empty(total, dtype=np.int64), np.empty(total, dtype=np.int64)
    cap = FIRST_CAP
    while True:
        out = [np.empty(cap, dtype=np.int64) for _ in range(3)]
        n = int(_scan(codes, words, low, starts, counts, probe_rows, probe_left, sketches, hashes,
                      radius, run_max, allowance, kept_j, kept_row, *out))
        if n < cap:  # (the last row is scratch for the slots that are not hits)
            return out[0][:n], out[1][:n], out[2][:n]
        cap = n + 1  # the same scan again, with room for every hit


def warm_up() -> None:
    """Compile (or load from numba's cache) before the first query is timed."""
    z64, zu = np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.uint64)
    scan_runs(zu, np.zeros(1, dtype=np.uint32), np.zeros((1, 3), dtype=np.uint8), np.zeros(2, dtype=np.uint32),
              z64, z64, z64, zu, zu, 0, 1, z64)
