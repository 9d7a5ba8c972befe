"""Page requests and pages, shared by every list service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from crypto_dash.errors import ValidationError

T = TypeVar("T")

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageRequest:
    """A 1-based page number and a page size of at most ``MAX_PAGE_SIZE``."""

    page: int = 1
    size: int = 20

    def __post_init__(self) -> None:
        if (
            isinstance(self.page, bool)
            or not isinstance(self.page, int)
            or self.page < 1
        ):
            raise ValidationError.for_field(
                "page", "The page number must be 1 or more."
            )
        if (
            isinstance(self.size, bool)
            or not isinstance(self.size, int)
            or not 1 <= self.size <= MAX_PAGE_SIZE
        ):
            raise ValidationError.for_field(
                "page_size", f"The page size must be between 1 and {MAX_PAGE_SIZE}."
            )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1
