"""Mixed precision: does this CPU compute bfloat16 natively?"""

from __future__ import annotations

from pathlib import Path

__all__ = ["BF16_CPU_FLAGS", "cpu_has_native_bf16", "resolve_dtype_policy"]

#: ``/proc/cpuinfo`` flags of native bfloat16 arithmetic: Intel AMX tiles
#: (Sapphire Rapids and later) or AVX-512 BF16 dot products (Cooper Lake,
#: AMD Zen 4 and later).
BF16_CPU_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


def cpu_has_native_bf16(cpuinfo="/proc/cpuinfo"):
    """Whether the CPU has native bfloat16 units (AMX or AVX-512 BF16).

    Reads the ``flags`` line of ``/proc/cpuinfo`` (Linux). On CPUs without
    these units bfloat16 is emulated and slower than float32, so
    ``dtype_policy="auto"`` uses it only where this returns True.

    Parameters
    ----------
    cpuinfo : str or path-like, default="/proc/cpuinfo"
        The file to read (another path in tests).

    Returns
    -------
    bool
        True when the first ``flags`` line lists ``amx_bf16`` or
        ``avx512_bf16``; False otherwise, and when the file cannot be read
        (not Linux).

    Examples
    --------
    >>> from skleuk.neural_network import cpu_has_native_bf16
    >>> isinstance(cpu_has_native_bf16(), bool)
    True
    """
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "flags":
            return bool(BF16_CPU_FLAGS & set(value.split()))
    return False


def resolve_dtype_policy(dtype_policy, cpuinfo="/proc/cpuinfo"):
    """The Keras dtype policy that ``dtype_policy`` stands for on this CPU.

    Parameters
    ----------
    dtype_policy : {None, "auto", "float32", "mixed_bfloat16", "mixed_float16"}
        ``"auto"``: ``"mixed_bfloat16"`` where :func:`cpu_has_native_bf16`,
        else ``"float32"``. None: ``"float32"``. Other values are returned
        unchanged.
    cpuinfo : str or path-like, default="/proc/cpuinfo"
        Passed to :func:`cpu_has_native_bf16`.

    Returns
    -------
    str
        A Keras dtype policy name.

    Examples
    --------
    >>> from skleuk.neural_network._precision import resolve_dtype_policy
    >>> resolve_dtype_policy(None)
    'float32'
    >>> resolve_dtype_policy("auto") in ("float32", "mixed_bfloat16")
    True
    """
    if dtype_policy is None:
        return "float32"
    if dtype_policy == "auto":
        return "mixed_bfloat16" if cpu_has_native_bf16(cpuinfo) else "float32"
    return dtype_policy
