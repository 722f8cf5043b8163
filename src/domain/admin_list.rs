//! What an admin list page is asked for: a search text, filters, one sort and a page, parsed
//! once from the query string. Sorts are closed enums: a list offers only the orders an index
//! serves, so every page costs what its rows cost, whatever the table's size.

use super::text::query_text;
use super::{CategoryId, FieldError, OrderStatus, PageRequest, StoreId, Timestamp};
use crate::error::{Error, Result};

/// Rows per admin list page unless `page_size` says otherwise.
pub const ADMIN_PAGE_SIZE: u32 = 50;

/// One sortable column and its direction (`?sort=title`, `?sort=-title`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<K> {
    /// The column sorted on.
    pub key: K,
    /// `-name` in the query string: largest first.
    pub descending: bool,
}

/// A list's sortable columns: the query-string name of each.
pub trait SortKey: Copy + PartialEq + 'static {
    /// Every sortable column, in the order an error message lists them.
    const ALL: &'static [Self];
    /// The default order of the list.
    const DEFAULT: Sort<Self>;
    /// The column's query-string name (`?sort=name`).
    fn name(self) -> &'static str;
}

impl<K: SortKey> Sort<K> {
    /// `name` ascending or `-name` descending; absent is the list's default.
    pub fn parse(text: Option<&str>) -> std::result::Result<Self, FieldError> {
        let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else { return Ok(K::DEFAULT) };
        let (descending, name) = match text.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, text),
        };
        K::ALL.iter().find(|key| key.name() == name).map(|&key| Sort { key, descending }).ok_or_else(|| {
            let names: Vec<&str> = K::ALL.iter().map(|key| key.name()).collect();
            FieldError::new("sort", format!("must be one of {} (prefix - for descending)", names.join(", ")))
        })
    }

    /// The query-string value of this sort.
    pub fn to_param(self) -> String {
        format!("{}{}", if self.descending { "-" } else { "" }, self.key.name())
    }
}

macro_rules! sort_keys {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ } default $default:ident $descending:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $(#[doc = concat!("`?sort=", $text, "`")] $variant),+ }

        impl SortKey for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            const DEFAULT: Sort<Self> = Sort { key: Self::$default, descending: $descending };
            fn name(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }
    };
}

sort_keys!(
    /// Products: the id is the rowid, title has `products_title_nocase`, price `products_price`.
    ProductSort { Id => "id", Title => "title", Price => "price" } default Id false
);
sort_keys!(
    /// A store's inventory: by product id (the unique index) or quantity (`inventory_store_quantity`).
    InventorySort { Product => "product", Quantity => "quantity" } default Product false
);
sort_keys!(
    /// Categories and stores are small tables (tens of rows): any order is cheap.
    NameSort { Id => "id", Name => "name" } default Name false
);

/// The product list's query.
#[derive(Debug, Clone)]
pub struct ProductList {
    /// Title contains this, case-insensitively.
    pub q: Option<String>,
    /// Only this category's products.
    pub category: Option<CategoryId>,
    /// The column and direction (`?sort=`), by id when absent.
    pub sort: Sort<ProductSort>,
    /// Which page, of what size.
    pub page: PageRequest,
}

/// A store's inventory list.
#[derive(Debug, Clone)]
pub struct InventoryList {
    /// Product title contains this, case-insensitively.
    pub q: Option<String>,
    /// `Some(true)`: quantity > 0; `Some(false)`: quantity = 0.
    pub in_stock: Option<bool>,
    /// The column and direction (`?sort=`), by product when absent.
    pub sort: Sort<InventorySort>,
    /// Which page, of what size.
    pub page: PageRequest,
}

/// The cross-store order list: newest first.
#[derive(Debug, Clone, Default)]
pub struct OrderList {
    /// Only this store's orders.
    pub store: Option<StoreId>,
    /// Only orders in this state.
    pub status: Option<OrderStatus>,
    /// Placed on or after this day (UTC midnight).
    pub from: Option<Timestamp>,
    /// Placed before the end of this day (UTC).
    pub to: Option<Timestamp>,
    /// Which page, of what size.
    pub page: PageRequest,
}

/// Reads a query string's parameters by name.
pub trait Params {
    /// The raw value of `name`, if the query string has it.
    fn param(&self, name: &str) -> Option<&str>;

    /// The trimmed value, `None` when absent or blank.
    fn text(&self, name: &str) -> Option<String> {
        self.param(name).map(str::trim).filter(|text| !text.is_empty()).map(str::to_owned)
    }
}

/// The list's search text (`q`): one line, no control characters (contract, Conventions).
fn search_text(params: &impl Params) -> std::result::Result<Option<String>, FieldError> {
    query_text("q", params.param("q"))
}

/// Collects every bad parameter before failing, as the forms do.
struct Collect(Vec<FieldError>);

impl Collect {
    fn take<T>(&mut self, result: std::result::Result<T, FieldError>) -> Option<T> {
        result.map_err(|error| self.0.push(error)).ok()
    }

    fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T> {
        if self.0.is_empty() { Ok(value()) } else { Err(Error::Validation(self.0)) }
    }
}

fn page(params: &impl Params, errors: &mut Collect) -> PageRequest {
    let size = params.param("page_size");
    let page = PageRequest::parse(params.param("page"), size)
        .map(|page| PageRequest { page_size: if size.is_none() { ADMIN_PAGE_SIZE } else { page.page_size }, ..page });
    match page {
        Ok(page) => page,
        Err(mut list) => {
            errors.0.append(&mut list);
            PageRequest::default()
        }
    }
}

fn positive_id(params: &impl Params, name: &str) -> std::result::Result<Option<i64>, FieldError> {
    match params.text(name) {
        None => Ok(None),
        Some(text) => super::parse_positive_id(&text).map(Some).ok_or_else(|| FieldError::new(name, "must be an id")),
    }
}

/// A `YYYY-MM-DD` day as its first microsecond (UTC), or that of the day after (`next_day`).
fn day(params: &impl Params, name: &str, next_day: bool) -> std::result::Result<Option<Timestamp>, FieldError> {
    let Some(text) = params.text(name) else { return Ok(None) };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date =
        time::Date::parse(&text, &format).map_err(|_| FieldError::new(name, "must be a date like 2026-11-30"))?;
    let date = if next_day { date.next_day().unwrap_or(date) } else { date };
    let seconds = date.midnight().assume_utc().unix_timestamp();
    Ok(Some(Timestamp::from_micros(seconds.saturating_mul(1_000_000))))
}

/// Parses the product list's query (`q`, `category`, `sort`, `page`, `page_size`), naming
/// every bad field at once.
pub fn product_list(params: &impl Params) -> Result<ProductList> {
    let mut errors = Collect(Vec::new());
    let category = errors.take(positive_id(params, "category")).flatten().map(CategoryId);
    let sort = errors.take(Sort::parse(params.param("sort")));
    let page = page(params, &mut errors);
    let q = errors.take(search_text(params)).flatten();
    errors.finish(|| ProductList { q, category, sort: sort.unwrap_or(ProductSort::DEFAULT), page })
}

/// Parses a store inventory list's query (`q`, `in_stock`, `sort`, `page`, `page_size`),
/// naming every bad field at once.
pub fn inventory_list(params: &impl Params) -> Result<InventoryList> {
    let mut errors = Collect(Vec::new());
    let in_stock = errors.take(match params.text("in_stock").as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(FieldError::new("in_stock", "must be true or false")),
    });
    let sort = errors.take(Sort::parse(params.param("sort")));
    let page = page(params, &mut errors);
    let q = errors.take(search_text(params)).flatten();
    errors.finish(|| InventoryList {
        q,
        in_stock: in_stock.flatten(),
        sort: sort.unwrap_or(InventorySort::DEFAULT),
        page,
    })
}

/// Parses the order list's query (`store`, `status`, `from`, `to`, `page`, `page_size`),
/// naming every bad field at once.
pub fn order_list(params: &impl Params) -> Result<OrderList> {
    let mut errors = Collect(Vec::new());
    let store = errors.take(positive_id(params, "store")).flatten().map(StoreId);
    let status = errors.take(match params.text("status") {
        None => Ok(None),
        Some(text) => OrderStatus::parse(&text)
            .map(Some)
            .ok_or_else(|| FieldError::new("status", "must be PENDING, CONFIRMED or REJECTED")),
    });
    let from = errors.take(day(params, "from", false)).flatten();
    let to = errors.take(day(params, "to", true)).flatten();
    let page = page(params, &mut errors);
    errors.finish(|| OrderList { store, status: status.flatten(), from, to, page })
}

/// A name-sorted small list (categories, stores): search text, sort, page.
pub fn name_list(params: &impl Params) -> Result<(Option<String>, Sort<NameSort>, PageRequest)> {
    let mut errors = Collect(Vec::new());
    let sort = errors.take(Sort::parse(params.param("sort")));
    let page = page(params, &mut errors);
    let q = errors.take(search_text(params)).flatten();
    errors.finish(|| (q, sort.unwrap_or(NameSort::DEFAULT), page))
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Params for Vec<(&str, &str)> {
        fn param(&self, name: &str) -> Option<&str> {
            self.iter().find(|(key, _)| *key == name).map(|(_, value)| *value)
        }
    }

    #[test]
    fn sorts_parse_by_name_with_a_minus_for_descending() {
        let list = product_list(&vec![("sort", "-price")]).expect("valid");
        assert_eq!(list.sort, Sort { key: ProductSort::Price, descending: true });
        assert_eq!(list.sort.to_param(), "-price");
        assert_eq!(product_list(&vec![]).expect("valid").sort, ProductSort::DEFAULT);
    }

    #[test]
    fn an_unindexed_sort_and_a_bad_category_are_both_named() {
        let Err(Error::Validation(errors)) = product_list(&vec![("sort", "description"), ("category", "x")]) else {
            panic!("expected field errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["category", "sort"]);
    }

    #[test]
    fn a_date_range_covers_whole_days() {
        let list = order_list(&vec![("from", "2026-11-30"), ("to", "2026-11-30")]).expect("valid");
        let (from, to) = (list.from.expect("from").micros, list.to.expect("to").micros);
        assert_eq!(to - from, 86_400_000_000);
        assert!(order_list(&vec![("from", "30/11/2026")]).is_err());
    }
}
