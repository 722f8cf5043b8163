//! Page requests for every list endpoint: `page` (1-based) and `page_size` (1..=100).

use super::FieldError;

pub(super) const DEFAULT_PAGE_SIZE: u32 = 20;
pub(super) const MAX_PAGE_SIZE: u32 = 100;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    /// Rows per page, already clamped to `MAX_PAGE_SIZE`.
    pub page_size: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { page: 1, page_size: DEFAULT_PAGE_SIZE }
    }
}

impl PageRequest {
    /// Parses the raw query values. A page size over the maximum is clamped (DRF behaviour);
    /// zero, negative or non-numeric values are errors.
    pub fn parse(page: Option<&str>, page_size: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let page = match page {
            None => 1,
            Some(text) => positive(text).unwrap_or_else(|| {
                errors.push(FieldError::new("page", "must be a positive integer"));
                1
            }),
        };
        let page_size = match page_size {
            None => DEFAULT_PAGE_SIZE,
            // Clamped to MAX_PAGE_SIZE first, so the conversion back to u32 cannot fail.
            Some(text) => positive(text)
                .map(|size| u32::try_from(size.min(u64::from(MAX_PAGE_SIZE))).unwrap_or(MAX_PAGE_SIZE))
                .unwrap_or_else(|| {
                    errors.push(FieldError::new("page_size", "must be a positive integer"));
                    DEFAULT_PAGE_SIZE
                }),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let page = u32::try_from(page).map_err(|_| vec![FieldError::new("page", "is too large")])?;
        Ok(Self { page, page_size })
    }

    /// Rows before this page (SQL `OFFSET`).
    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.page_size)
    }

    /// Rows on this page (SQL `LIMIT`).
    pub fn limit(self) -> i64 {
        i64::from(self.page_size)
    }

    /// Whether this page exists for a list of `count` rows. Page 1 always exists, even empty.
    pub fn exists_for(self, count: i64) -> bool {
        self.page == 1 || self.offset() < count
    }

    /// Whether a list of `count` rows has a page after this one.
    pub fn has_next(self, count: i64) -> bool {
        self.offset() + self.limit() < count
    }
}

/// A positive integer (`u64`), saturating very long digit strings rather than failing them:
/// `page_size=99999999999999999999` is "too big", so it clamps like `1000` does.
fn positive(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = text.parse::<u64>().unwrap_or(u64::MAX);
    (value > 0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_clamping() {
        assert_eq!(PageRequest::parse(None, None), Ok(PageRequest { page: 1, page_size: 20 }));
        assert_eq!(PageRequest::parse(Some("3"), Some("500")), Ok(PageRequest { page: 3, page_size: 100 }));
    }

    #[test]
    fn zero_negative_and_text_are_errors() {
        for bad in ["0", "-1", "abc", "", "1.5"] {
            assert!(PageRequest::parse(Some(bad), None).is_err(), "page={bad}");
            assert!(PageRequest::parse(None, Some(bad)).is_err(), "page_size={bad}");
        }
    }

    #[test]
    fn page_existence() {
        let second = PageRequest { page: 2, page_size: 10 };
        assert!(second.exists_for(11));
        assert!(!second.exists_for(10));
        assert!(PageRequest::default().exists_for(0));
        assert!(second.has_next(21));
        assert!(!second.has_next(20));
    }
}
