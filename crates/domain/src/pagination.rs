//! Paging, shared by every paginated list: what a client asks for (a page number or the cursor a
//! previous page gave, and a size), what a store is asked for (a [`Window`]), what it answers (a
//! [`Slice`]) and the [`Page`] a list returns. Sealing and opening cursors is the use cases' work
//! (`hexgate_ports`); here a cursor is an opaque string.

use thiserror::Error;
use uuid::Uuid;

use crate::RuleViolation;

/// Where a requested page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    /// Page `n` (≥ 1) of the list: `OFFSET (n - 1) × page_size`, counted.
    Number(u64),
    /// Right after the last row of the page that gave this cursor (its `next_cursor`), as the
    /// client sent it back: keyset paging, the same cost however deep, not counted.
    Cursor(String),
}

/// A page request: `page` ≥ 1 or a cursor (not both), and `page_size` in 1..=100.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    start: PageStart,
    page_size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PageError {
    #[error("must be at least 1")]
    PageTooSmall,
    #[error("must be between 1 and {max}")]
    PageSizeOutOfRange { max: u64 },
    /// A cursor already says where the page starts; a page number beside it would contradict it
    /// or be ignored, and neither is what the client meant.
    #[error("must not be sent with `cursor`: a cursor already says where the page starts")]
    PageWithCursor,
}

impl RuleViolation for PageError {
    fn code(&self) -> &'static str {
        match self {
            Self::PageTooSmall => "page_out_of_range",
            Self::PageSizeOutOfRange { .. } => "page_size_out_of_range",
            Self::PageWithCursor => "page_with_cursor",
        }
    }
}

impl PageRequest {
    pub const DEFAULT_SIZE: u64 = 20;
    pub const MAX_SIZE: u64 = 100;
    /// Deeper pages than this are refused: an offset scan that far is a denial of service (a
    /// cursor reaches any depth at the cost of the first page).
    pub const MAX_PAGE: u64 = 1_000_000;

    /// Page number `page`.
    ///
    /// # Errors
    /// [`PageError`] for a page below 1 (or absurdly deep) or a size outside 1..=100.
    pub fn new(page: u64, page_size: u64) -> Result<Self, PageError> {
        if !(1..=Self::MAX_PAGE).contains(&page) {
            return Err(PageError::PageTooSmall);
        }
        Self::sized(PageStart::Number(page), page_size)
    }

    /// The page right after the one that gave `cursor`.
    ///
    /// # Errors
    /// [`PageError::PageSizeOutOfRange`].
    pub fn after(cursor: impl Into<String>, page_size: u64) -> Result<Self, PageError> {
        Self::sized(PageStart::Cursor(cursor.into()), page_size)
    }

    /// A list query's `page`, `page_size` and `cursor`: page 1 when neither `page` nor `cursor`
    /// is given.
    ///
    /// # Errors
    /// [`PageError::PageWithCursor`] when both are given; the others as [`Self::new`].
    pub fn from_query(page: Option<u64>, page_size: u64, cursor: Option<String>) -> Result<Self, PageError> {
        match (page, cursor) {
            (Some(_), Some(_)) => Err(PageError::PageWithCursor),
            (_, Some(cursor)) => Self::after(cursor, page_size),
            (page, None) => Self::new(page.unwrap_or(1), page_size),
        }
    }

    fn sized(start: PageStart, page_size: u64) -> Result<Self, PageError> {
        if !(1..=Self::MAX_SIZE).contains(&page_size) {
            return Err(PageError::PageSizeOutOfRange { max: Self::MAX_SIZE });
        }
        Ok(Self { start, page_size })
    }

    #[must_use]
    pub fn start(&self) -> &PageStart {
        &self.start
    }

    #[must_use]
    pub fn page_size(&self) -> u64 {
        self.page_size
    }

    /// The window to ask a store for; `read_cursor` turns the request's cursor, if it has one,
    /// into the position it continues after. The window takes one row more than the page holds:
    /// whether that row exists is `has_next`, known without counting.
    ///
    /// # Errors
    /// [`InvalidCursor`] when `read_cursor` cannot read the cursor.
    pub fn window<K>(&self, read_cursor: impl FnOnce(&str) -> Option<Position<K>>) -> Result<Window<K>, InvalidCursor> {
        let limit = self.page_size + 1;
        Ok(match &self.start {
            PageStart::Number(page) => Window::Offset { offset: (page - 1) * self.page_size, limit },
            PageStart::Cursor(cursor) => Window::After { after: read_cursor(cursor).ok_or(InvalidCursor)?, limit },
        })
    }
}

/// A cursor that is malformed, tampered with, or was made for another list, sort or filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("malformed, tampered with, or from another list, sort or filter")]
pub struct InvalidCursor;

impl Default for PageRequest {
    fn default() -> Self {
        Self { start: PageStart::Number(1), page_size: Self::DEFAULT_SIZE }
    }
}

/// A row's place in a sorted list: the value of the sort's column, and the row's id, which
/// breaks ties in the sort's direction. A cursor holds the position of its page's last row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position<K> {
    pub key: K,
    pub id: Uuid,
}

/// The rows a list asks a store for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window<K> {
    /// Rows `offset .. offset + limit` in the list's order, and how many rows pass the filter.
    Offset { offset: u64, limit: u64 },
    /// The first `limit` rows strictly after `after` in the list's order (so rows added or
    /// removed before it move nothing after it), and no count: counting is what would make a
    /// deep page cost more than the first.
    After { after: Position<K>, limit: u64 },
}

impl<K> Window<K> {
    #[must_use]
    pub fn limit(&self) -> u64 {
        match self {
            Self::Offset { limit, .. } | Self::After { limit, .. } => *limit,
        }
    }
}

/// What a store answers for a [`Window`]: at most `limit` rows, and the count of every row
/// passing the filter for an [`Window::Offset`] (`None` for [`Window::After`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice<T> {
    pub items: Vec<T>,
    pub total: Option<u64>,
}

/// One page of a list, with the arithmetic every list endpoint shares. `total`, `page` and
/// `pages` are `None` for a page asked for by cursor (nothing was counted, and its number is not
/// known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: Option<u64>,
    pub page: Option<u64>,
    pub page_size: u64,
    pub pages: Option<u64>,
    pub has_next: bool,
    pub has_previous: bool,
    /// Where the next page starts, when there is one (whatever way this page was asked for).
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The page `request` asked for, from what the store answered for `request.window(..)` (one
    /// row more than a page); `cursor_after` makes the cursor of the page's last row.
    pub fn assemble(slice: Slice<T>, request: &PageRequest, cursor_after: impl FnOnce(&T) -> String) -> Self {
        let size = request.page_size;
        let mut items = slice.items;
        let has_next = items.len() as u64 > size;
        items.truncate(usize::try_from(size).unwrap_or(usize::MAX));
        let next_cursor = if has_next { items.last().map(cursor_after) } else { None };
        let (page, total, pages, has_previous) = match request.start {
            PageStart::Number(page) => {
                (Some(page), slice.total, slice.total.map(|total| total.div_ceil(size)), page > 1)
            }
            // A cursor is only ever handed out after a row, so a page it starts has rows before
            // it (unless they were deleted since; paging back means keeping earlier cursors).
            PageStart::Cursor(_) => (None, None, None, true),
        };
        Self { items, total, page, page_size: size, pages, has_next, has_previous, next_cursor }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            page_size: self.page_size,
            pages: self.pages,
            has_next: self.has_next,
            has_previous: self.has_previous,
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(rows: u64, total: Option<u64>) -> Slice<u64> {
        Slice { items: (1..=rows).collect(), total }
    }

    #[test]
    fn bounds_are_enforced() {
        assert_eq!(PageRequest::new(0, 20), Err(PageError::PageTooSmall));
        assert_eq!(PageRequest::new(PageRequest::MAX_PAGE + 1, 20), Err(PageError::PageTooSmall));
        assert_eq!(PageRequest::new(1, 0), Err(PageError::PageSizeOutOfRange { max: 100 }));
        assert_eq!(PageRequest::new(1, 101), Err(PageError::PageSizeOutOfRange { max: 100 }));
        assert_eq!(PageRequest::after("c", 101), Err(PageError::PageSizeOutOfRange { max: 100 }));
        assert!(PageRequest::new(1, 100).is_ok());
    }

    #[test]
    fn a_query_gives_a_page_number_or_a_cursor_never_both() {
        assert_eq!(PageRequest::from_query(None, 20, None), Ok(PageRequest::default()));
        assert_eq!(PageRequest::from_query(Some(3), 5, None).map(|r| r.start), Ok(PageStart::Number(3)));
        assert_eq!(
            PageRequest::from_query(None, 5, Some("c".into())).map(|r| r.start),
            Ok(PageStart::Cursor("c".into()))
        );
        assert_eq!(PageRequest::from_query(Some(1), 5, Some("c".into())), Err(PageError::PageWithCursor));
        assert_eq!(PageError::PageWithCursor.code(), "page_with_cursor");
    }

    #[test]
    fn the_window_asks_for_one_row_more_than_the_page() {
        let third = PageRequest::new(3, 10).expect("valid");
        let never = |_: &str| -> Option<Position<u8>> { panic!("a page number has no cursor to read") };
        assert_eq!(third.window(never), Ok(Window::Offset { offset: 20, limit: 11 }));
        let after = Position { key: 7_u8, id: Uuid::nil() };
        let by_cursor = PageRequest::after("c", 10).expect("valid");
        let read = |c: &str| (c == "c").then(|| after.clone());
        assert_eq!(by_cursor.window(read), Ok(Window::After { after: after.clone(), limit: 11 }));
        let unreadable = PageRequest::after("x", 10).expect("valid");
        assert_eq!(unreadable.window(read), Err(InvalidCursor));
    }

    #[test]
    fn a_numbered_page_counts_and_carries_a_cursor_while_rows_follow() {
        let second = PageRequest::new(2, 10).expect("valid");
        let page = Page::assemble(slice(11, Some(25)), &second, |last| format!("after {last}"));
        assert_eq!(page.items.len(), 10, "the extra row is not shown");
        assert_eq!((page.page, page.total, page.pages), (Some(2), Some(25), Some(3)));
        assert_eq!((page.has_next, page.has_previous), (true, true));
        assert_eq!(page.next_cursor.as_deref(), Some("after 10"), "the cursor follows the last row shown");

        let last = Page::assemble(slice(5, Some(25)), &PageRequest::new(3, 10).expect("valid"), |_| unreachable!());
        assert_eq!((last.has_next, last.next_cursor), (false, None));
    }

    #[test]
    fn an_empty_list_has_zero_pages_and_a_page_past_the_end_is_empty() {
        let page = Page::<u64>::assemble(slice(0, Some(0)), &PageRequest::default(), |_| unreachable!());
        assert_eq!((page.pages, page.has_next, page.has_previous), (Some(0), false, false));
        let past =
            Page::<u64>::assemble(slice(0, Some(5)), &PageRequest::new(9, 10).expect("valid"), |_| unreachable!());
        assert_eq!((past.pages, past.has_next, past.has_previous, past.next_cursor), (Some(1), false, true, None));
    }

    #[test]
    fn a_page_by_cursor_has_no_number_total_or_page_count() {
        let request = PageRequest::after("c", 3).expect("valid");
        let page = Page::assemble(slice(4, None), &request, |last| format!("after {last}"));
        assert_eq!((page.page, page.total, page.pages), (None, None, None));
        assert_eq!((page.has_next, page.has_previous, page.next_cursor.as_deref()), (true, true, Some("after 3")));
        let end = Page::assemble(slice(3, None), &request, |_| unreachable!());
        assert_eq!((end.items.len(), end.has_next, end.next_cursor), (3, false, None));
    }
}
