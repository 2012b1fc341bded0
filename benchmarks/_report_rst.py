"""reStructuredText helpers of the benchmark report fragments (``_report``)."""

from __future__ import annotations


def _list_table(header, rows, widths=None):
    lines = [".. list-table::", "   :header-rows: 1"]
    if widths:
        lines.append(f"   :widths: {' '.join(str(w) for w in widths)}")
    lines.append("")
    for row in [header, *rows]:
        for i, cell in enumerate(row):
            cell = str(cell) if cell not in (None, "") else "--"
            lines.append(f"   {'* -' if i == 0 else '  -'} {cell}")
    return "\n".join(lines) + "\n"


def _when(res):
    load = res.get("load_average_start")
    load_txt = (f"; 1/5/15-minute load average at the start "
                f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f}" if load else "")
    end = res.get("load_average_end")
    if load and end:
        load_txt += f", at the end {end[0]:.1f}/{end[1]:.1f}/{end[2]:.1f}"
    return f"Measured {res['date']}{load_txt}."


def _pct(x):
    return f"{100 * x:.0f} %"


def _as_list(x):
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def _held(ok):
    return "**holds**" if ok else "**does not hold**"
