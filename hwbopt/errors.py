"""One exception family. The CLI maps each class to an exit code and a one-paragraph message."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or doubtful) in an instance, located as precisely as the source allows.

    ``file`` is the file (or sheet) name, ``row`` the 1-based line of a CSV file (``None`` for
    YAML), ``field`` the column or the YAML path, ``message`` what was found and what is expected.
    """

    file: str
    row: int | None
    field: str | None
    message: str
    severity: str = "error"  # "error" or "warning"

    def location(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"line {self.row}")
        if self.field:
            parts.append(f"field '{self.field}'" if self.row is not None else self.field)
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"


@dataclass(frozen=True)
class SheetProblem(Problem):
    """A problem in a workbook. ``file`` is the sheet, ``row`` the sheet's row, ``field`` the
    column header; ``cell`` is the address (``C5``), and the message begins with it
    (``budgets!C5: …``), so the message alone still says where to look.
    """

    cell: str | None = None

    def location(self) -> str:
        if self.cell:
            where = f"{self.file}!{self.cell}"
        else:
            where = f"{self.file}, row {self.row}" if self.row is not None else \
                f"sheet {self.file}"
        return f"{where} ({self.field})" if self.field else where

    @classmethod
    def at(cls, sheet: str, row: int | None, field: str | None, cell: str | None, what: str,
           severity: str = "error") -> SheetProblem:
        """A problem whose message starts with its location: ``budgets!C5: expected …``."""
        where = cls(sheet, row, field, "", severity, cell).location()
        return cls(sheet, row, field, f"{where}: {what}", severity, cell)

    def __str__(self) -> str:
        return self.message


class HwbError(Exception):
    """Base class of every error hwbopt raises on purpose."""

    exit_code = 1


class InstanceError(HwbError):
    """The instance (or an override of it) is invalid; carries every problem found."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem, source: str | None = None):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        n = len(self.problems)
        head = f"{self.source}: " if self.source else ""
        head += f"{n} problem{'s' if n != 1 else ''} in the instance"
        return head + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class UsageError(HwbError):
    """A command or function was called with arguments that cannot work together."""

    exit_code = 2
