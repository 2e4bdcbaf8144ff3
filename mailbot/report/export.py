"""Write a report as JSON, CSV, XLSX (Biểu số 2 layout, one sheet per unit, charts) or HTML."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from mailbot.dossier.models import REQUEST_TYPE_LABELS
from mailbot.errors import ExportError
from mailbot.report.charts import add_monthly_charts, monthly_series
from mailbot.report.form import FormSpec
from mailbot.report.jsonfmt import report_to_dict
from mailbot.report.periods import vi
from mailbot.report.stats import RATING_LEVELS, Report, UnitStats, percentile

FORMATS = ("json", "csv", "xlsx", "html")
ProgressFn = Callable[[str], None]

CHANNEL_LABELS = {
    "email": "Thư điện tử",
    "web_form": "Biểu mẫu trên cổng thông tin",
    "counter": "Tại Bộ phận một cửa",
    "khac": "Kênh khác",
}
RATING_LABELS = {
    "rat_hai_long": "Rất hài lòng",
    "hai_long": "Hài lòng",
    "chua_hai_long": "Chưa hài lòng",
}


# ---- the pieces every format shows ---------------------------------------------------------
@dataclass(frozen=True)
class Section:
    """A block of Biểu số 2: I. Tại Cục THADS, II. Tại Chi cục THADS."""

    roman: str
    label: str
    stats: UnitStats


def sections(report: Report, form: FormSpec) -> list[Section]:
    levels = {u.unit.level for u in report.units}
    out = []
    if "cuc" in levels:
        out.append(Section("I", form.section_cuc, report.section("cuc")))
    if "chi_cuc" in levels:
        out.append(Section("II" if out else "I", form.section_chi_cuc, report.section("chi_cuc")))
    return out


def check_report(report: Report, form: FormSpec) -> list[str]:
    """Every failed cross-check of the form, per unit, section and total (never corrected)."""
    problems: list[str] = []
    blocks = [(u.unit.code, u.stats) for u in report.units]
    blocks += [(f"{s.roman}. {s.label}", s.stats) for s in sections(report, form)]
    blocks.append((form.total_label, report.total))
    for where, stats in blocks:
        for row, values in form.table(stats.by_type):
            problems += form.mismatches(values, f"{where}, {row.label}")
        problems += form.mismatches(form.values(stats.by_type, form.all_types), where)
    return problems


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x * 100:.1f}%".replace(".", ",")


def indicators(s: UnitStats) -> list[tuple[str, Any]]:
    """Figures outside the form, in the order a leader reads them (Vietnamese labels)."""
    rows: list[tuple[str, Any]] = [
        ("Số yêu cầu tiếp nhận (không kể thư tự động, thư rác)", s.received)
    ]
    for t, label in REQUEST_TYPE_LABELS.items():
        if t in s.by_type or t in (
            "yeu_cau_thi_hanh_an",
            "xac_nhan_ket_qua",
            "khieu_nai",
            "to_cao",
            "hoi_dap",
        ):
            if t not in ("tu_dong", "thu_rac"):
                rows.append((f"  – {label}", s.by_type.get(t, {}).get("received", 0)))
    for ch, label in CHANNEL_LABELS.items():
        if ch in s.by_channel or ch != "khac":
            rows.append((f"  – qua kênh: {label}", s.by_channel.get(ch, 0)))
    rows += [
        ("Đã giải quyết xong đúng hạn", s.resolved_on_time),
        ("Đã giải quyết xong quá hạn", s.resolved_late),
        ("Đang giải quyết, chưa tới hạn", s.pending_not_due),
        ("Đang giải quyết, quá hạn", s.pending_overdue),
        ("Tỷ lệ giải quyết đúng hạn", _pct(s.on_time_rate)),
        ("Trong đó đã chuyển đơn (thông báo chuyển là trả lời)", s.forwarded),
        ("Hồ sơ được mở lại", s.reopened),
        ("Thư đóng không cần trả lời (không tính là yêu cầu)", s.closed_without_reply),
        ("Thư tự động đã lọc", s.machine_mail.get("tu_dong", 0)),
        ("Thư rác đã lọc", s.machine_mail.get("thu_rac", 0)),
        ("Hồ sơ cán bộ chuyển thành thư tự động/thư rác", s.marked_machine),
        (
            "Thời gian trả lời đầu tiên, trung vị (ngày làm việc)",
            _num(percentile(s.first_reply_days, 0.5)),
        ),
        (
            "Thời gian trả lời đầu tiên, phân vị 90 (ngày làm việc)",
            _num(percentile(s.first_reply_days, 0.9)),
        ),
        (
            "Thời gian đến khi đóng hồ sơ, trung vị (ngày làm việc)",
            _num(percentile(s.closing_days, 0.5)),
        ),
        (
            "Thời gian đến khi đóng hồ sơ, phân vị 90 (ngày làm việc)",
            _num(percentile(s.closing_days, 0.9)),
        ),
    ]
    for level in RATING_LEVELS:
        rows.append((f"Đánh giá: {RATING_LABELS[level]}", s.ratings.get(level, 0)))
    rows += [
        ("Hồ sơ được phân loại tự động", s.classified),
        ("Hồ sơ cán bộ sửa phân loại", s.corrected),
        ("Độ chính xác phân loại tự động", _pct(s.accuracy)),
    ]
    return rows


def _num(v: int | None) -> Any:
    return "" if v is None else v


def form_lines(report: Report, form: FormSpec) -> list[tuple[str, str, dict[int, int], bool]]:
    """(STT, label, column values, is_heading) of the whole form: sections, rows, total."""
    out: list[tuple[str, str, dict[int, int], bool]] = []
    for sec in sections(report, form):
        out.append((sec.roman, sec.label, form.values(sec.stats.by_type, form.all_types), True))
        for i, (row, values) in enumerate(form.table(sec.stats.by_type), start=1):
            out.append((str(i), row.label, values, False))
    total = report.total
    out.append(("", form.total_label, form.values(total.by_type, form.all_types), True))
    return out


def unit_form_lines(
    stats: UnitStats, form: FormSpec
) -> list[tuple[str, str, dict[int, int], bool]]:
    out = [
        (str(i), row.label, values, False)
        for i, (row, values) in enumerate(form.table(stats.by_type), start=1)
    ]
    out.append(("", form.total_label, form.values(stats.by_type, form.all_types), True))
    return out


# ---- JSON and CSV ---------------------------------------------------------------------------
def to_json(report: Report, form: FormSpec) -> str:
    data = report_to_dict(report, form)
    data["checks"] = check_report(report, form)
    return json.dumps(data, ensure_ascii=False, indent=1)


def to_csv(report: Report, form: FormSpec) -> str:
    """Biểu số 2 in long form: every unit's rows, then the sections and the total."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    numeric = form.numeric_columns
    w.writerow(
        ["Mã đơn vị", "Đơn vị", "STT", "Tên TTHC"] + [f"({c.no}) {_col_title(c)}" for c in numeric]
    )
    for u in report.units:
        for stt, label, values, _ in unit_form_lines(u.stats, form):
            w.writerow([u.unit.code, u.unit.name, stt, label] + [values[c.no] for c in numeric])
    for stt, label, values, _ in form_lines(report, form):
        w.writerow(["", "", stt, label] + [values[c.no] for c in numeric])
    return "\ufeff" + buf.getvalue()  # BOM: Excel then reads the Vietnamese letters right


def _col_title(c: Any) -> str:
    return " – ".join(p for p in (c.group, c.subgroup, c.heading) if p)


# ---- XLSX -----------------------------------------------------------------------------------
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="center", horizontal="center")


def _write_form(
    ws: Worksheet,
    form: FormSpec,
    title_unit: str,
    period_label: str,
    lines: list[tuple[str, str, dict[int, int], bool]],
) -> int:
    """Biểu số 2 on a sheet: title, three heading rows with merged groups, (1)…(13), rows."""
    ncol = len(form.columns)
    ws.cell(1, 1, form.form_name).font = BOLD
    ws.cell(2, 1, form.title).font = Font(bold=True, size=13)
    ws.cell(3, 1, title_unit)
    ws.cell(4, 1, period_label)
    for r in (2, 3, 4):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncol)
        ws.cell(r, 1).alignment = Alignment(horizontal="center")
    top = 6
    cols = list(form.columns)
    # Three heading rows: group (merged across its columns), subgroup (merged likewise),
    # heading; a missing level is merged downwards into the cell above.
    for j, c in enumerate(cols, start=1):
        if not c.group:
            ws.cell(top, j, c.heading)
            ws.merge_cells(start_row=top, start_column=j, end_row=top + 2, end_column=j)
        elif not c.subgroup:
            ws.cell(top + 1, j, c.heading)
            ws.merge_cells(start_row=top + 1, start_column=j, end_row=top + 2, end_column=j)
        else:
            ws.cell(top + 2, j, c.heading)
    for level, key in ((0, lambda c: (c.group,)), (1, lambda c: (c.group, c.subgroup))):
        j = 0
        while j < ncol:
            c = cols[j]
            k = j
            if c.group and (level == 0 or c.subgroup):
                while k + 1 < ncol and key(cols[k + 1]) == key(c):
                    k += 1
                ws.cell(top + level, j + 1, c.group if level == 0 else c.subgroup)
                if k > j:
                    ws.merge_cells(
                        start_row=top + level,
                        start_column=j + 1,
                        end_row=top + level,
                        end_column=k + 1,
                    )
            j = k + 1
    for i in range(3):
        for j in range(ncol):
            cell = ws.cell(top + i, j + 1)
            cell.alignment, cell.font, cell.border = WRAP, BOLD, BOX
    numbers_row = top + 3
    for j, c in enumerate(cols):
        cell = ws.cell(numbers_row, j + 1, f"({c.no})")
        cell.alignment, cell.border = WRAP, BOX
        cell.font = Font(italic=True)
    r = numbers_row + 1
    for stt, label, values, heading in lines:
        for j, c in enumerate(cols):
            v: Any = stt if c.source == "stt" else label if c.source == "label" else values[c.no]
            cell = ws.cell(r, j + 1, v)
            cell.border = BOX
            if heading:
                cell.font = BOLD
        r += 1
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 42
    for j in range(3, ncol + 1):
        ws.column_dimensions[get_column_letter(j)].width = 13
    for i in range(3):
        ws.row_dimensions[top + i].height = 45
    return r


def _sheet_name(code: str, used: set[str]) -> str:
    name = "".join(ch for ch in code if ch not in "[]:*?/\\")[:31] or "Don vi"
    base, i = name, 2
    while name in used:
        name = f"{base[:28]}~{i}"
        i += 1
    used.add(name)
    return name


def _signature(ws: Worksheet, row: int, ncol: int) -> None:
    ws.cell(row + 1, 2, "NGƯỜI LẬP BIỂU").font = BOLD
    ws.cell(row + 1, max(ncol - 3, 3), "THỦ TRƯỞNG ĐƠN VỊ").font = BOLD
    ws.cell(row + 2, max(ncol - 3, 3), "(Ký tên, đóng dấu)").font = Font(italic=True)


def to_xlsx(report: Report, form: FormSpec, progress: ProgressFn | None = None) -> bytes:
    step = progress or (lambda _m: None)
    wb = Workbook()
    used: set[str] = set()
    ws = wb.active
    assert ws is not None
    ws.title = _sheet_name("Tổng hợp", used)
    scope_name = ", ".join(u.unit.name for u in report.units if u.unit.level == "cuc") or (
        ", ".join(u.unit.name for u in report.units)
    )
    step("Ghi Biểu số 2 tổng hợp")
    end = _write_form(ws, form, scope_name, report.period.label, form_lines(report, form))
    problems = check_report(report, form)
    if problems:
        ws.cell(end + 1, 1, "Số liệu không khớp (không được tự sửa; cần kiểm tra sổ theo dõi):")
        ws.cell(end + 1, 1).font = Font(bold=True, color="C00000")
        for i, p in enumerate(problems, start=end + 2):
            ws.cell(i, 2, p)
        end += len(problems) + 2
    _signature(ws, end + 1, len(form.columns))

    step("Ghi các chỉ số theo đơn vị")
    ind = wb.create_sheet(_sheet_name("Chỉ số", used))
    ind.cell(1, 1, "CÁC CHỈ SỐ KHÁC").font = Font(bold=True, size=13)
    ind.cell(2, 1, report.period.label)
    blocks = [(u.unit.name, u.stats) for u in report.units] + [(form.total_label, report.total)]
    ind.cell(4, 1, "Chỉ số").font = BOLD
    for j, (name, stats) in enumerate(blocks, start=2):
        ind.cell(4, j, name).font = BOLD
        ind.cell(4, j).alignment = WRAP
        for i, (label, value) in enumerate(indicators(stats), start=5):
            if j == 2:
                ind.cell(i, 1, label)
            ind.cell(i, j, value)
        ind.column_dimensions[get_column_letter(j)].width = 16
    ind.column_dimensions["A"].width = 58
    ind.row_dimensions[4].height = 60

    step("Vẽ biểu đồ theo tháng")
    chart_ws = wb.create_sheet(_sheet_name("Biểu đồ", used))
    add_monthly_charts(chart_ws, monthly_series(report.total, report.period))

    for u in report.units:
        step(f"Ghi phụ lục đơn vị {u.unit.code}")
        sheet = wb.create_sheet(_sheet_name(u.unit.code, used))
        end = _write_form(
            sheet, form, u.unit.name, report.period.label, unit_form_lines(u.stats, form)
        )
        _signature(sheet, end + 1, len(form.columns))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- HTML -----------------------------------------------------------------------------------
def html_context(report: Report, form: FormSpec, office_name: str = "") -> dict[str, Any]:
    """Everything the printable page and the web page show, ready for a Jinja2 template."""
    from mailbot.report.charts import monthly_svg

    annex = [
        {
            "code": u.unit.code,
            "name": u.unit.name,
            "level": u.unit.level,
            "lines": unit_form_lines(u.stats, form),
            "indicators": indicators(u.stats),
        }
        for u in report.units
    ]
    today = date.today()
    return {
        "form": form,
        "columns": form.columns,
        "numeric_columns": form.numeric_columns,
        "period": report.period,
        "period_label": report.period.label,
        "from_text": vi(report.period.start),
        "to_text": vi(report.period.end),
        "office_name": office_name
        or ", ".join(u.unit.name for u in report.units if u.unit.level == "cuc"),
        "lines": form_lines(report, form),
        "indicators": indicators(report.total),
        "annex": annex,
        "problems": check_report(report, form),
        "chart_svg": monthly_svg(monthly_series(report.total, report.period)),
        "today": today,
    }


def to_html(
    report: Report, form: FormSpec, templates_dir: Path | str, office_name: str = ""
) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(templates_dir)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    try:
        template = env.get_template("report/print.html")
    except Exception as exc:  # missing or broken template
        raise ExportError(
            f"không tìm thấy mẫu trang in report/print.html trong {templates_dir} ({exc}); "
            "kiểm tra templates_dir trong cấu hình"
        ) from None
    return template.render(**html_context(report, form, office_name))


def render(
    report: Report,
    form: FormSpec,
    fmt: str,
    *,
    templates_dir: Path | str,
    office_name: str = "",
    progress: ProgressFn | None = None,
) -> bytes:
    """The report in one of FORMATS, as bytes ready to write or send."""
    if fmt == "json":
        return to_json(report, form).encode("utf-8")
    if fmt == "csv":
        return to_csv(report, form).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(report, form, progress)
    if fmt == "html":
        return to_html(report, form, templates_dir, office_name).encode("utf-8")
    raise ExportError(f"định dạng {fmt!r} không hỗ trợ; chọn một trong: {', '.join(FORMATS)}")


MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}


def file_name(report: Report, fmt: str, unit: str | None = None) -> str:
    p = report.period
    return f"bao-cao-{unit or 'tong-hop'}-{p.start:%Y%m%d}-{p.end:%Y%m%d}.{fmt}"
