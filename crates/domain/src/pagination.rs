use thiserror::Error;

use crate::RuleViolation;

/// A page request: `page` ≥ 1, `page_size` in 1..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u64,
    page_size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PageError {
    #[error("must be at least 1")]
    PageTooSmall,
    #[error("must be between 1 and {max}")]
    PageSizeOutOfRange { max: u64 },
}

impl RuleViolation for PageError {
    fn code(&self) -> &'static str {
        match self {
            Self::PageTooSmall => "page_out_of_range",
            Self::PageSizeOutOfRange { .. } => "page_size_out_of_range",
        }
    }
}

impl PageRequest {
    pub const DEFAULT_SIZE: u64 = 20;
    pub const MAX_SIZE: u64 = 100;
    /// Deeper pages than this are refused: an offset scan that far is a denial of service.
    pub const MAX_PAGE: u64 = 1_000_000;

    /// # Errors
    /// [`PageError`] for a page below 1 (or absurdly deep) or a size outside 1..=100.
    pub fn new(page: u64, page_size: u64) -> Result<Self, PageError> {
        if !(1..=Self::MAX_PAGE).contains(&page) {
            return Err(PageError::PageTooSmall);
        }
        if !(1..=Self::MAX_SIZE).contains(&page_size) {
            return Err(PageError::PageSizeOutOfRange { max: Self::MAX_SIZE });
        }
        Ok(Self { page, page_size })
    }

    #[must_use]
    pub fn page(self) -> u64 {
        self.page
    }

    #[must_use]
    pub fn page_size(self) -> u64 {
        self.page_size
    }

    #[must_use]
    pub fn offset(self) -> u64 {
        (self.page - 1) * self.page_size
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { page: 1, page_size: Self::DEFAULT_SIZE }
    }
}

/// One page of a list, with the arithmetic every list endpoint shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
    pub pages: u64,
    pub has_next: bool,
    pub has_previous: bool,
}

impl<T> Page<T> {
    #[must_use]
    pub fn new(items: Vec<T>, total: u64, request: PageRequest) -> Self {
        let pages = total.div_ceil(request.page_size);
        Self {
            items,
            total,
            page: request.page,
            page_size: request.page_size,
            pages,
            has_next: request.page < pages,
            has_previous: request.page > 1,
        }
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_enforced() {
        assert_eq!(PageRequest::new(0, 20), Err(PageError::PageTooSmall));
        assert_eq!(PageRequest::new(1, 0), Err(PageError::PageSizeOutOfRange { max: 100 }));
        assert_eq!(PageRequest::new(1, 101), Err(PageError::PageSizeOutOfRange { max: 100 }));
        assert!(PageRequest::new(1, 100).is_ok());
    }

    #[test]
    fn page_arithmetic() {
        let req = PageRequest::new(2, 10).expect("valid");
        assert_eq!(req.offset(), 10);
        let page = Page::new(vec![1; 10], 25, req);
        assert_eq!((page.pages, page.has_next, page.has_previous), (3, true, true));
        let last = Page::new(vec![1; 5], 25, PageRequest::new(3, 10).expect("valid"));
        assert!(!last.has_next);
    }

    #[test]
    fn an_empty_list_has_zero_pages_and_a_page_past_the_end_is_empty() {
        let page = Page::<u8>::new(vec![], 0, PageRequest::default());
        assert_eq!((page.pages, page.has_next, page.has_previous), (0, false, false));
        let past = Page::<u8>::new(vec![], 5, PageRequest::new(9, 10).expect("valid"));
        assert_eq!((past.pages, past.has_next, past.has_previous), (1, false, true));
    }
}
