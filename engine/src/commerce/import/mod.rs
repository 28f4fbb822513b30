//! Shopify product CSV import: an exported catalog file in, [`Product`]s out.
//!
//! The importer is pure (bytes in, values out), so an upload handler can run it and hand
//! what it returns to the store. A Shopify export has one row per variant, grouped by
//! `Handle`: the first row of a handle carries the product fields (title, body, vendor,
//! type, tags, option names, status), and any row may carry a variant, an image, or both.
//!
//! Failures come in two sizes. An [`ImportError`] means the file as a whole can't be read
//! (too large, not UTF-8, no usable header, broken quoting) and nothing is imported. An
//! [`ImportIssue`] names one line of one product: that product is left out whole, the
//! others still import, and every issue is returned so a retailer can fix them in one go.
//!
//! The file comes from outside, so every field has a bound (the `MAX_*` constants) and no
//! input makes the parser panic.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use csv::StringRecord;
use iso_currency::Currency;
use serde::Serialize;
use vitrine_persistence::model::{Image, InventoryPolicy, Product, ProductId, Variant, VariantId};

/// Largest catalog file [`ImportOptions::new`] accepts, in bytes.
pub const DEFAULT_MAX_BYTES: usize = 16 * 1024 * 1024;

/// Longest handle, in characters.
const MAX_HANDLE_CHARS: usize = 255;
/// Longest title, in characters.
const MAX_TITLE_CHARS: usize = 255;
/// Longest other one-line text (vendor, type, option names and values, SKU), in characters.
const MAX_TEXT_CHARS: usize = 255;
/// Longest description, in bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most tags on one product.
const MAX_TAGS: usize = 250;
/// Longest tag, in characters.
const MAX_TAG_CHARS: usize = 255;
/// Longest image URL, in characters.
const MAX_URL_CHARS: usize = 2048;
/// Longest image alternative text, in characters.
const MAX_ALT_CHARS: usize = 512;
/// Most variants on one product.
const MAX_VARIANTS: usize = 2048;
/// Most images on one product.
const MAX_IMAGES: usize = 250;
/// Longest piece of a bad value quoted back in an issue, in characters.
const MAX_SHOWN_CHARS: usize = 40;

/// Option name Shopify gives a product that has no options.
const DEFAULT_OPTION_NAME: &str = "Title";
/// Option value of the single variant of a product that has no options.
const DEFAULT_OPTION_VALUE: &str = "Default Title";

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How to read a catalog file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// ISO 4217 code of the tenant currency; its exponent turns `89.00` into minor units
    /// (USD 2, JPY 0, KWD 3).
    pub currency: String,
    /// Largest accepted file, in bytes; a larger one is refused before it is parsed.
    pub max_bytes: usize,
}

impl ImportOptions {
    /// Options for `currency` with the [`DEFAULT_MAX_BYTES`] limit.
    pub fn new(currency: impl Into<String>) -> Self {
        Self {
            currency: currency.into(),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self::new("USD")
    }
}

/// What a catalog file held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParsedCatalog {
    /// Products without any issue, in order of first appearance of their handle.
    pub products: Vec<Product>,
    /// Issues of the rows and products left out, ordered by line.
    pub errors: Vec<ImportIssue>,
    /// Variants across `products`.
    pub variant_count: usize,
    /// The line of each variant of `products` (its SKU's line, or its product's first
    /// line for variants without a SKU), by variant id.
    pub variant_lines: HashMap<String, u64>,
}

impl ParsedCatalog {
    /// Leaves out the products named in `issues` (issues found after parsing, such as a
    /// SKU owned by a product the file does not list) and records the issues.
    pub fn exclude(&mut self, issues: Vec<(ProductId, ImportIssue)>) {
        if issues.is_empty() {
            return;
        }
        let gone: HashSet<&ProductId> = issues.iter().map(|(p, _)| p).collect();
        self.products.retain(|p| !gone.contains(&p.id));
        self.variant_count = self.products.iter().map(|p| p.variants.len()).sum();
        let kept: HashSet<&str> = self
            .products
            .iter()
            .flat_map(|p| p.variants.iter().map(|v| v.id.as_str()))
            .collect();
        self.variant_lines
            .retain(|id, _| kept.contains(id.as_str()));
        self.errors
            .extend(issues.into_iter().map(|(_, issue)| issue));
        self.errors.sort_by_key(|issue| issue.line);
    }
}

/// A problem with one line of the file; the product it belongs to is left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportIssue {
    /// 1-based line where the offending record starts (the header is line 1).
    pub line: u64,
    /// What is wrong, for the retailer.
    pub message: String,
}

/// Why a catalog file could not be read at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The file holds nothing but whitespace.
    #[error("the catalog file is empty")]
    Empty,
    /// The file is larger than [`ImportOptions::max_bytes`].
    #[error("the catalog file is {size} bytes, over the limit of {max} bytes")]
    TooLarge {
        /// Size of the file, in bytes.
        size: usize,
        /// The limit, in bytes.
        max: usize,
    },
    /// The file is not UTF-8 text.
    #[error("the catalog file is not UTF-8 text (line {line})")]
    NotUtf8 {
        /// 1-based line of the first byte that is not UTF-8.
        line: u64,
    },
    /// The header lacks columns every catalog needs.
    #[error("the header is missing required columns: {}", .columns.join(", "))]
    MissingColumns {
        /// Names of the missing columns.
        columns: Vec<String>,
    },
    /// The tenant currency is not an ISO 4217 code with a minor unit.
    #[error("unknown currency code {code:?}: expected an ISO 4217 code such as USD")]
    UnknownCurrency {
        /// The code as given.
        code: String,
    },
    /// The file is not well-formed CSV.
    #[error("malformed CSV at line {line}: {message}")]
    Csv {
        /// 1-based line where the malformed record starts.
        line: u64,
        /// What is malformed.
        message: String,
    },
}

/// Parses a Shopify product export into products, keeping every product that has no issue.
pub fn parse_shopify_csv(
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ParsedCatalog, ImportError> {
    let exponent = currency_exponent(&options.currency)?;

    // Refuse oversized input before spending any work on it.
    if bytes.len() > options.max_bytes {
        return Err(ImportError::TooLarge {
            size: bytes.len(),
            max: options.max_bytes,
        });
    }
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty);
    }
    if let Err(error) = std::str::from_utf8(body) {
        let line = LineLocator::new(body).line_at(error.valid_up_to());
        return Err(ImportError::NotUtf8 { line });
    }

    let rows = read_rows(body)?;
    let mut catalog = ParsedCatalog {
        products: Vec::new(),
        errors: rows.issues.clone(),
        variant_count: 0,
        variant_lines: HashMap::new(),
    };
    for group in &rows.groups {
        match build_product(group, &rows, exponent) {
            Ok(product) => {
                catalog.variant_count += product.variants.len();
                let first_line = group.rows.first().map_or(0, |row| row.line);
                for v in &product.variants {
                    let line = v
                        .sku
                        .as_ref()
                        .and_then(|sku| rows.skus.get(sku))
                        .copied()
                        .unwrap_or(first_line);
                    catalog.variant_lines.insert(v.id.as_str().to_owned(), line);
                }
                catalog.products.push(product);
            }
            Err(issues) => catalog.errors.extend(issues),
        }
    }
    catalog.errors.sort_by_key(|issue| issue.line);
    Ok(catalog)
}

/// The exponent (decimal places of the minor unit) of an ISO 4217 currency code.
fn currency_exponent(code: &str) -> Result<u32, ImportError> {
    Currency::from_code(&code.trim().to_ascii_uppercase())
        .and_then(Currency::exponent)
        .map(u32::from)
        .ok_or_else(|| ImportError::UnknownCurrency {
            code: code.to_owned(),
        })
}

/// The columns the importer reads; any other column is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Handle,
    Title,
    Body,
    Vendor,
    ProductType,
    Tags,
    Published,
    Option1Name,
    Option1Value,
    Option2Name,
    Option2Value,
    Option3Name,
    Option3Value,
    Sku,
    InventoryQty,
    InventoryPolicy,
    Price,
    CompareAtPrice,
    ImageSrc,
    ImagePosition,
    ImageAltText,
    VariantImage,
    Status,
}

const COLUMN_COUNT: usize = 23;

impl Column {
    /// Every column, in discriminant order (so `column as usize` indexes this array).
    const ALL: [Column; COLUMN_COUNT] = [
        Column::Handle,
        Column::Title,
        Column::Body,
        Column::Vendor,
        Column::ProductType,
        Column::Tags,
        Column::Published,
        Column::Option1Name,
        Column::Option1Value,
        Column::Option2Name,
        Column::Option2Value,
        Column::Option3Name,
        Column::Option3Value,
        Column::Sku,
        Column::InventoryQty,
        Column::InventoryPolicy,
        Column::Price,
        Column::CompareAtPrice,
        Column::ImageSrc,
        Column::ImagePosition,
        Column::ImageAltText,
        Column::VariantImage,
        Column::Status,
    ];
    const REQUIRED: [Column; 3] = [Column::Handle, Column::Title, Column::Price];
    const OPTION_NAMES: [Column; 3] = [
        Column::Option1Name,
        Column::Option2Name,
        Column::Option3Name,
    ];
    const OPTION_VALUES: [Column; 3] = [
        Column::Option1Value,
        Column::Option2Value,
        Column::Option3Value,
    ];

    /// The header spelling in Shopify exports.
    fn name(self) -> &'static str {
        match self {
            Column::Handle => "Handle",
            Column::Title => "Title",
            Column::Body => "Body (HTML)",
            Column::Vendor => "Vendor",
            Column::ProductType => "Type",
            Column::Tags => "Tags",
            Column::Published => "Published",
            Column::Option1Name => "Option1 Name",
            Column::Option1Value => "Option1 Value",
            Column::Option2Name => "Option2 Name",
            Column::Option2Value => "Option2 Value",
            Column::Option3Name => "Option3 Name",
            Column::Option3Value => "Option3 Value",
            Column::Sku => "Variant SKU",
            Column::InventoryQty => "Variant Inventory Qty",
            Column::InventoryPolicy => "Variant Inventory Policy",
            Column::Price => "Variant Price",
            Column::CompareAtPrice => "Variant Compare At Price",
            Column::ImageSrc => "Image Src",
            Column::ImagePosition => "Image Position",
            Column::ImageAltText => "Image Alt Text",
            Column::VariantImage => "Variant Image",
            Column::Status => "Status",
        }
    }
}

/// Where each known column sits in the file.
struct Header {
    positions: [Option<usize>; COLUMN_COUNT],
    width: usize,
}

impl Header {
    /// Finds the known columns, matching names trimmed and case-insensitively.
    fn parse(record: &StringRecord) -> Result<Self, ImportError> {
        let mut positions = [None; COLUMN_COUNT];
        for (index, name) in record.iter().enumerate() {
            let name = name.trim_start_matches('\u{feff}').trim();
            let known = Column::ALL
                .iter()
                .find(|c| c.name().eq_ignore_ascii_case(name));
            if let Some(&column) = known {
                // A repeated column name keeps its first position.
                positions[column as usize].get_or_insert(index);
            }
        }

        let missing: Vec<String> = Column::REQUIRED
            .iter()
            .filter(|column| positions[**column as usize].is_none())
            .map(|column| column.name().to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns { columns: missing });
        }
        Ok(Self {
            positions,
            width: record.len(),
        })
    }

    /// The trimmed value of `column` in `record`; empty when the file lacks the column.
    fn get<'r>(&self, record: &'r StringRecord, column: Column) -> &'r str {
        self.positions[column as usize]
            .and_then(|index| record.get(index))
            .map_or("", str::trim)
    }
}

/// One data row and the line it starts on.
struct Row {
    line: u64,
    record: StringRecord,
}

/// The rows of one handle, in file order, and the issues already found for them.
struct RowGroup {
    handle: String,
    rows: Vec<Row>,
    issues: Vec<ImportIssue>,
}

/// The file split into handles.
struct Rows {
    header: Header,
    groups: Vec<RowGroup>,
    /// Index in `groups` of each handle.
    group_of_handle: HashMap<String, usize>,
    /// Issues of rows that belong to no product (no handle).
    issues: Vec<ImportIssue>,
    /// Every non-empty SKU in the file and the line it first appears on.
    skus: HashMap<String, u64>,
}

/// Where a record starts in the file.
#[derive(Clone, Copy)]
struct RecordStart {
    offset: usize,
    line: u64,
}

/// Reads the header and groups the data rows by handle, in order of first appearance.
fn read_rows(body: &[u8]) -> Result<Rows, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut lines = LineLocator::new(body);
    let mut record = StringRecord::new();

    let Some(mut last) = next_record(&mut reader, &mut record, &mut lines)? else {
        return Err(ImportError::Empty);
    };
    let mut rows = Rows {
        header: Header::parse(&record)?,
        groups: Vec::new(),
        group_of_handle: HashMap::new(),
        issues: Vec::new(),
        skus: HashMap::new(),
    };
    while let Some(start) = next_record(&mut reader, &mut record, &mut lines)? {
        last = start;
        rows.add(&record, start.line);
    }

    // An unclosed quote swallows the rest of the file into the last record.
    if ends_inside_quotes(body.get(last.offset..).unwrap_or_default()) {
        return Err(ImportError::Csv {
            line: last.line,
            message: "a quoted field is never closed".to_owned(),
        });
    }
    Ok(rows)
}

impl Rows {
    /// Files one data record under its handle, noting what is wrong with it on the way.
    fn add(&mut self, record: &StringRecord, line: u64) {
        // Spreadsheets leave rows of bare commas behind; they carry nothing.
        if record.iter().all(|field| field.trim().is_empty()) {
            return;
        }
        let ragged = (record.len() != self.header.width).then(|| ImportIssue {
            line,
            message: format!(
                "row has {} fields but the header has {}",
                record.len(),
                self.header.width
            ),
        });
        let handle = self.header.get(record, Column::Handle);
        if handle.is_empty() {
            self.issues.push(ragged.unwrap_or_else(|| ImportIssue {
                line,
                message: "row has no Handle".to_owned(),
            }));
            return;
        }

        let index = *self
            .group_of_handle
            .entry(handle.to_owned())
            .or_insert_with(|| {
                self.groups.push(RowGroup {
                    handle: handle.to_owned(),
                    rows: Vec::new(),
                    issues: Vec::new(),
                });
                self.groups.len() - 1
            });
        let Some(group) = self.groups.get_mut(index) else {
            return;
        };
        // A ragged row's fields are shifted, so none of them can be trusted.
        if let Some(issue) = ragged {
            group.issues.push(issue);
            return;
        }

        // SKUs are unique across the whole file, checked in file order.
        let sku = self.header.get(record, Column::Sku);
        if !sku.is_empty() {
            match self.skus.entry(sku.to_owned()) {
                Entry::Occupied(first) => group.issues.push(ImportIssue {
                    line,
                    message: format!("SKU {} is already used on line {}", shown(sku), first.get()),
                }),
                Entry::Vacant(slot) => {
                    slot.insert(line);
                }
            }
        }
        group.rows.push(Row {
            line,
            record: record.clone(),
        });
    }
}

/// Reads the next record into `record`; returns where it starts.
fn next_record(
    reader: &mut csv::Reader<&[u8]>,
    record: &mut StringRecord,
    lines: &mut LineLocator<'_>,
) -> Result<Option<RecordStart>, ImportError> {
    match reader.read_record(record) {
        Ok(false) => Ok(None),
        Ok(true) => {
            // The reader's own position points before any blank lines it skipped.
            let offset = record.position().map_or(0, |p| p.byte());
            let offset = lines.skip_breaks(usize::try_from(offset).unwrap_or(usize::MAX));
            let line = lines.line_at(offset);
            Ok(Some(RecordStart { offset, line }))
        }
        Err(error) => {
            let offset = error.position().map_or(0, |p| p.byte());
            let start = lines.skip_breaks(usize::try_from(offset).unwrap_or(usize::MAX));
            Err(ImportError::Csv {
                line: lines.line_at(start),
                message: error.to_string(),
            })
        }
    }
}

/// Whether a record (the rest of the file from its start) ends inside a quoted field.
fn ends_inside_quotes(raw: &[u8]) -> bool {
    let mut in_quotes = false;
    let mut field_start = true;
    let mut bytes = raw.iter().peekable();
    while let Some(&byte) = bytes.next() {
        if in_quotes {
            if byte == b'"' && bytes.next_if_eq(&&b'"').is_none() {
                in_quotes = false;
            }
            continue;
        }
        match byte {
            b'"' if field_start => {
                in_quotes = true;
                field_start = false;
            }
            b',' | b'\n' | b'\r' => field_start = true,
            _ => field_start = false,
        }
    }
    in_quotes
}

/// Turns byte offsets into 1-based line numbers. `\n`, `\r\n` and a lone `\r` each end a
/// line, as they each end a record for the CSV reader.
struct LineLocator<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineLocator<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The first offset at or after `offset` that is not a line break.
    fn skip_breaks(&self, offset: usize) -> usize {
        let start = offset.min(self.bytes.len());
        let breaks = self.bytes[start..]
            .iter()
            .take_while(|byte| matches!(byte, b'\r' | b'\n'))
            .count();
        start + breaks
    }

    /// The line of `offset`; cheap when offsets are asked for in increasing order.
    fn line_at(&mut self, offset: usize) -> u64 {
        let target = offset.min(self.bytes.len());
        if target < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        let scanned = &self.bytes[self.offset..target];
        for (index, &byte) in scanned.iter().enumerate() {
            let crlf = byte == b'\r' && self.bytes.get(self.offset + index + 1) == Some(&b'\n');
            if byte == b'\n' || (byte == b'\r' && !crlf) {
                self.line += 1;
            }
        }
        self.offset = target;
        self.line
    }
}

/// Issues found while building one product.
#[derive(Default)]
struct Problems(Vec<ImportIssue>);

impl Problems {
    fn add(&mut self, line: u64, message: impl Into<String>) {
        self.0.push(ImportIssue {
            line,
            message: message.into(),
        });
    }

    /// The value of `result`, or `None` after noting its error.
    fn check<T>(&mut self, line: u64, result: Result<T, String>) -> Option<T> {
        result.map_err(|message| self.add(line, message)).ok()
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Builds one product from its rows, or returns every issue that keeps it out.
fn build_product(
    group: &RowGroup,
    rows: &Rows,
    exponent: u32,
) -> Result<Product, Vec<ImportIssue>> {
    let header = &rows.header;
    let mut problems = Problems(group.issues.clone());
    let Some(first) = group.rows.first() else {
        return Err(problems.0);
    };

    problems.check(first.line, check_handle(&group.handle));
    let fields = read_product_fields(header, first, &mut problems);
    let names = read_option_names(header, first, &mut problems);
    let mut images = ImageList::default();
    for row in &group.rows {
        images.add(header, row, &mut problems);
    }
    let images = images.finish(first.line, &mut problems);
    let variants = read_variants(group, rows, &names, exponent, &mut problems);

    match (fields, problems.is_empty()) {
        (Some(fields), true) => Ok(Product {
            id: ProductId::new(group.handle.clone()),
            collections: collections(&fields.product_type, &fields.tags),
            title: fields.title,
            body_html: fields.body_html,
            vendor: fields.vendor,
            product_type: fields.product_type,
            tags: fields.tags,
            option_names: names.names(),
            images,
            status: fields.status,
            variants,
        }),
        _ => Err(problems.0),
    }
}

/// Reads the variants of a product's rows, in row order, checking they are distinct.
fn read_variants(
    group: &RowGroup,
    rows: &Rows,
    names: &OptionNames,
    exponent: u32,
    problems: &mut Problems,
) -> Vec<Variant> {
    let mut variants: Vec<Variant> = Vec::new();
    let mut variant_rows = 0;
    let mut first_line_of_values: HashMap<Vec<String>, u64> = HashMap::new();
    for row in group
        .rows
        .iter()
        .filter(|row| is_variant_row(&rows.header, &row.record))
    {
        variant_rows += 1;
        let context = VariantContext {
            header: &rows.header,
            handle: &group.handle,
            names,
            exponent,
            position: u32::try_from(variants.len() + 1).unwrap_or(u32::MAX),
        };
        let Some(variant) = read_variant(&context, row, problems) else {
            continue;
        };
        match first_line_of_values.entry(variant.option_values.clone()) {
            Entry::Occupied(seen) => {
                let values = variant.option_values.join(" / ");
                let message = format!(
                    "duplicate variant {} (first on line {})",
                    shown(&values),
                    seen.get()
                );
                problems.add(row.line, message);
            }
            Entry::Vacant(slot) => {
                slot.insert(row.line);
            }
        }
        // A variant without SKU gets a derived id, which must not collide with a SKU.
        if variant.sku.is_none() && rows.skus.contains_key(variant.id.as_str()) {
            let message = format!("variant id {} is also used as a SKU", variant.id);
            problems.add(row.line, message);
        }
        variants.push(variant);
    }

    let line = group.rows.first().map_or(0, |row| row.line);
    // A ragged row may have been the missing variant; it is reported already.
    if variant_rows == 0 && group.issues.is_empty() {
        let message = "product has no variant (no row with a price, SKU or option value)";
        problems.add(line, message);
    }
    if variants.len() > MAX_VARIANTS {
        problems.add(
            line,
            format!("product has more than {MAX_VARIANTS} variants"),
        );
    }
    variants
}

/// The product fields carried by the first row of a handle.
struct ProductFields {
    title: String,
    body_html: String,
    vendor: String,
    product_type: String,
    tags: Vec<String>,
    status: String,
}

/// Reads the product fields of the first row; `None` when any is invalid.
fn read_product_fields(
    header: &Header,
    first: &Row,
    problems: &mut Problems,
) -> Option<ProductFields> {
    let line = first.line;
    let get = |column| header.get(&first.record, column);
    let before = problems.len();

    let title = get(Column::Title);
    if title.is_empty() {
        problems.add(line, "Title is blank on the first row of the product");
    }
    problems.check(
        line,
        check_text(title, Column::Title.name(), MAX_TITLE_CHARS),
    );
    problems.check(line, check_body(get(Column::Body)));
    problems.check(
        line,
        check_text(get(Column::Vendor), "Vendor", MAX_TEXT_CHARS),
    );
    let product_type = get(Column::ProductType);
    problems.check(line, check_text(product_type, "Type", MAX_TEXT_CHARS));
    let tags = problems.check(line, parse_tags(get(Column::Tags)));
    let status = problems.check(
        line,
        parse_status(get(Column::Status), get(Column::Published)),
    );

    if problems.len() > before {
        return None;
    }
    Some(ProductFields {
        title: title.to_owned(),
        body_html: get(Column::Body).to_owned(),
        vendor: get(Column::Vendor).to_owned(),
        product_type: product_type.to_owned(),
        tags: tags?,
        status: status?,
    })
}

/// The option names of a product, one slot per `OptionN Name` column.
struct OptionNames {
    slots: [String; 3],
    /// No option was named, so the product has the single `Title` / `Default Title` option.
    implicit: bool,
}

impl OptionNames {
    fn names(&self) -> Vec<String> {
        self.slots
            .iter()
            .filter(|n| !n.is_empty())
            .cloned()
            .collect()
    }
}

/// Reads and checks the option names of the first row.
fn read_option_names(header: &Header, first: &Row, problems: &mut Problems) -> OptionNames {
    let mut slots = Column::OPTION_NAMES.map(|column| header.get(&first.record, column).to_owned());
    for (index, name) in slots.iter().enumerate() {
        let column = Column::OPTION_NAMES[index].name();
        if name.is_empty() {
            if slots[index + 1..].iter().any(|later| !later.is_empty()) {
                problems.add(
                    first.line,
                    format!("{column} is blank but a later option is named"),
                );
            }
            continue;
        }
        problems.check(first.line, check_text(name, column, MAX_TEXT_CHARS));
        if slots[..index]
            .iter()
            .any(|earlier| earlier.to_lowercase() == name.to_lowercase())
        {
            problems.add(
                first.line,
                format!("option name {} is used twice", shown(name)),
            );
        }
    }

    let implicit = slots.iter().all(String::is_empty);
    if implicit {
        slots[0] = DEFAULT_OPTION_NAME.to_owned();
    }
    OptionNames { slots, implicit }
}

/// Whether a row describes a variant: it has an option value, a SKU or a price.
fn is_variant_row(header: &Header, record: &StringRecord) -> bool {
    Column::OPTION_VALUES
        .iter()
        .chain([Column::Sku, Column::Price].iter())
        .any(|&column| !header.get(record, column).is_empty())
}

/// What reading a variant needs to know about its product.
struct VariantContext<'a> {
    header: &'a Header,
    handle: &'a str,
    names: &'a OptionNames,
    exponent: u32,
    position: u32,
}

/// Reads the variant of a row; `None` when any of its fields is invalid.
fn read_variant(
    context: &VariantContext<'_>,
    row: &Row,
    problems: &mut Problems,
) -> Option<Variant> {
    let line = row.line;
    let get = |column| context.header.get(&row.record, column);
    let before = problems.len();

    let option_values = read_option_values(context, row, problems);
    let sku = get(Column::Sku);
    problems.check(line, check_text(sku, Column::Sku.name(), MAX_TEXT_CHARS));
    let price_text = get(Column::Price);
    let price = if price_text.is_empty() {
        problems.add(line, "Variant Price is blank");
        None
    } else {
        problems.check(
            line,
            parse_price(Column::Price, price_text, context.exponent),
        )
    };
    let compare_text = get(Column::CompareAtPrice);
    let compare_at = match compare_text {
        "" => Some(None),
        text => problems
            .check(
                line,
                parse_price(Column::CompareAtPrice, text, context.exponent),
            )
            .map(Some),
    };
    let stock = problems.check(line, parse_stock(get(Column::InventoryQty)));
    let policy = problems.check(line, parse_policy(get(Column::InventoryPolicy)));
    let image = match get(Column::VariantImage) {
        "" => None,
        src => problems
            .check(line, check_image_url(src, Column::VariantImage.name()))
            .map(|()| src.to_owned()),
    };

    if problems.len() > before {
        return None;
    }
    let id = match sku {
        "" => derived_variant_id(context.handle, &option_values),
        sku => sku.to_owned(),
    };
    Some(Variant {
        id: VariantId::new(id),
        sku: (!sku.is_empty()).then(|| sku.to_owned()),
        option_values,
        price_minor: price?,
        compare_at_minor: compare_at?,
        stock: stock?,
        inventory_policy: policy?,
        position: context.position,
        image,
    })
}

/// Reads a variant's option values: one for each named option and none for the others.
fn read_option_values(
    context: &VariantContext<'_>,
    row: &Row,
    problems: &mut Problems,
) -> Vec<String> {
    let names = context.names;
    let mut values = Vec::new();
    for (index, name) in names.slots.iter().enumerate() {
        let value_column = Column::OPTION_VALUES[index];
        let value = context.header.get(&row.record, value_column);
        let unnamed = format!(
            "{} {} is given but the product has no {}",
            value_column.name(),
            shown(value),
            Column::OPTION_NAMES[index].name()
        );
        match (name.is_empty(), value.is_empty()) {
            (true, true) => {}
            (true, false) => problems.add(row.line, unnamed),
            (false, true) if names.implicit => values.push(DEFAULT_OPTION_VALUE.to_owned()),
            (false, true) => {
                problems.add(
                    row.line,
                    format!("missing value for option {}", shown(name)),
                );
            }
            (false, false) if names.implicit && value != DEFAULT_OPTION_VALUE => {
                problems.add(row.line, unnamed);
            }
            (false, false) => {
                let checked = check_text(value, value_column.name(), MAX_TEXT_CHARS);
                if problems.check(row.line, checked).is_some() {
                    values.push(value.to_owned());
                }
            }
        }
    }
    values
}

/// A stable variant id for a variant without SKU: the handle and a hash of the option
/// values, so re-importing the same file (in any row order) gives the same ids.
fn derived_variant_id(handle: &str, option_values: &[String]) -> String {
    // 64-bit FNV-1a: fixed by its definition, unlike std's hasher, which may change.
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET_BASIS;
    let mut feed = |bytes: &[u8]| {
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    feed(handle.as_bytes());
    for value in option_values {
        // The unit separator keeps ["ab", "c"] and ["a", "bc"] apart.
        feed(&[0x1f]);
        feed(value.as_bytes());
    }
    format!("{handle}-{hash:016x}")
}

/// One `Image Src` seen on a row.
struct ImageCandidate {
    src: String,
    alt: String,
    position: Option<u32>,
    appearance: usize,
}

/// The images of a product, deduplicated by URL.
#[derive(Default)]
struct ImageList {
    candidates: Vec<ImageCandidate>,
    seen: HashSet<String>,
}

impl ImageList {
    /// Notes the image of a row, if it has one; a URL seen before keeps its first entry.
    fn add(&mut self, header: &Header, row: &Row, problems: &mut Problems) {
        let src = header.get(&row.record, Column::ImageSrc);
        if src.is_empty() {
            return;
        }
        let alt = header.get(&row.record, Column::ImageAltText);
        let position_text = header.get(&row.record, Column::ImagePosition);
        let before = problems.len();

        problems.check(row.line, check_image_url(src, Column::ImageSrc.name()));
        problems.check(
            row.line,
            check_text(alt, Column::ImageAltText.name(), MAX_ALT_CHARS),
        );
        let position = match position_text {
            "" => None,
            text => match text.parse::<u32>() {
                Ok(position) if position > 0 => Some(position),
                _ => {
                    let message = format!(
                        "Image Position {} is not a positive whole number",
                        shown(text)
                    );
                    problems.add(row.line, message);
                    None
                }
            },
        };

        if problems.len() == before && self.seen.insert(src.to_owned()) {
            self.candidates.push(ImageCandidate {
                src: src.to_owned(),
                alt: alt.to_owned(),
                position,
                appearance: self.candidates.len(),
            });
        }
    }

    /// The images ordered by position (unpositioned last), then by appearance, renumbered
    /// from 1.
    fn finish(mut self, line: u64, problems: &mut Problems) -> Vec<Image> {
        if self.candidates.len() > MAX_IMAGES {
            problems.add(line, format!("product has more than {MAX_IMAGES} images"));
        }
        self.candidates
            .sort_by_key(|image| (image.position.unwrap_or(u32::MAX), image.appearance));
        self.candidates
            .into_iter()
            .zip(1..)
            .map(|(image, position)| Image {
                src: image.src,
                alt: image.alt,
                position,
            })
            .collect()
    }
}

/// Checks a handle: present, bounded, free of control characters.
fn check_handle(handle: &str) -> Result<(), String> {
    check_text(handle, Column::Handle.name(), MAX_HANDLE_CHARS)
}

/// Checks a one-line text field: at most `max` characters and no control characters.
fn check_text(value: &str, column: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        return Err(format!("{column} is longer than {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{column} contains control characters"));
    }
    Ok(())
}

/// Checks a description: bounded, and no control characters other than line breaks and tabs.
fn check_body(body: &str) -> Result<(), String> {
    if body.len() > MAX_BODY_BYTES {
        return Err(format!("Body (HTML) is longer than {MAX_BODY_BYTES} bytes"));
    }
    if body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("Body (HTML) contains control characters".to_owned());
    }
    Ok(())
}

/// Checks an image reference: an http(s) URL or a path on the serving host, so a catalog
/// can't smuggle `javascript:` or `data:` URLs into pages.
fn check_image_url(src: &str, column: &str) -> Result<(), String> {
    let lower = src.get(..8).unwrap_or(src).to_ascii_lowercase();
    let allowed =
        lower.starts_with("https://") || lower.starts_with("http://") || src.starts_with('/');
    if !allowed {
        return Err(format!(
            "{column} {} must be an http(s) URL or a path starting with '/'",
            shown(src)
        ));
    }
    if src.chars().any(char::is_whitespace) {
        return Err(format!("{column} {} contains whitespace", shown(src)));
    }
    check_text(src, column, MAX_URL_CHARS)
}

/// Splits comma-separated tags, trimmed, dropping blanks and repeats.
fn parse_tags(text: &str) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in text.split(',').map(str::trim).filter(|tag| !tag.is_empty()) {
        check_text(tag, "a tag", MAX_TAG_CHARS)?;
        if !tags.iter().any(|seen| seen == tag) {
            tags.push(tag.to_owned());
        }
        if tags.len() > MAX_TAGS {
            return Err(format!("Tags lists more than {MAX_TAGS} tags"));
        }
    }
    Ok(tags)
}

/// The product status: `Status` when given, else `draft` for an unpublished product and
/// `active` otherwise.
fn parse_status(status: &str, published: &str) -> Result<String, String> {
    let published = match published.to_ascii_lowercase().as_str() {
        "" | "true" => true,
        "false" => false,
        _ => {
            return Err(format!(
                "Published {} is not TRUE or FALSE",
                shown(published)
            ))
        }
    };
    match status.to_ascii_lowercase().as_str() {
        "" if published => Ok("active".to_owned()),
        "" => Ok("draft".to_owned()),
        known @ ("active" | "draft" | "archived") => Ok(known.to_owned()),
        _ => Err(format!(
            "Status {} is not active, draft or archived",
            shown(status)
        )),
    }
}

/// Parses a price such as `89.00` or `89` into minor units with `exponent` decimals.
fn parse_price(column: Column, text: &str, exponent: u32) -> Result<i64, String> {
    let name = column.name();
    if text.starts_with('-') {
        return Err(format!("{name} {} is negative", shown(text)));
    }
    if text.contains(',') {
        return Err(format!(
            "{name} {} has a thousands separator or a decimal comma; write it like 1234.50",
            shown(text)
        ));
    }
    let is_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) if is_digits(fraction) => (whole, fraction),
        Some(_) => return Err(format!("{name} {} is not a number", shown(text))),
        None => (text, ""),
    };
    if !is_digits(whole) {
        return Err(format!("{name} {} is not a number", shown(text)));
    }
    let exponent = exponent as usize;
    if fraction.len() > exponent {
        return Err(format!(
            "{name} {} has more than {exponent} decimals for this currency",
            shown(text)
        ));
    }

    let padding = std::iter::repeat_n(b'0', exponent - fraction.len());
    let mut minor: i64 = 0;
    for digit in whole.bytes().chain(fraction.bytes()).chain(padding) {
        minor = minor
            .checked_mul(10)
            .and_then(|value| value.checked_add(i64::from(digit - b'0')))
            .ok_or_else(|| format!("{name} {} is too large", shown(text)))?;
    }
    Ok(minor)
}

/// Parses `Variant Inventory Qty`: a whole number, or blank when stock is not tracked.
fn parse_stock(text: &str) -> Result<Option<i64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>().map(Some).map_err(|_| {
        format!(
            "Variant Inventory Qty {} is not a whole number",
            shown(text)
        )
    })
}

/// Parses `Variant Inventory Policy`: `deny` (the default when blank) or `continue`.
fn parse_policy(text: &str) -> Result<InventoryPolicy, String> {
    if text.is_empty() {
        return Ok(InventoryPolicy::Deny);
    }
    InventoryPolicy::parse(&text.to_ascii_lowercase()).ok_or_else(|| {
        format!(
            "Variant Inventory Policy {} is not deny or continue",
            shown(text)
        )
    })
}

/// The collection slugs of a product: its type's, then its tags', without repeats.
fn collections(product_type: &str, tags: &[String]) -> Vec<String> {
    let mut slugs: Vec<String> = Vec::new();
    for text in std::iter::once(product_type).chain(tags.iter().map(String::as_str)) {
        let slug = slug(text);
        if !slug.is_empty() && !slugs.contains(&slug) {
            slugs.push(slug);
        }
    }
    slugs
}

/// A URL-safe collection name: lower case, each run of other characters turned into one
/// `-`, no `-` at either end; letters of every script are kept (`Café Crème` →
/// `café-crème`).
///
/// Limitation: text is not Unicode-normalised, so a decomposed accent (`e` followed by a
/// combining mark) splits the slug; NFC normalisation before slugging would lift this.
fn slug(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut pending_dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                slug.push('-');
            }
            pending_dash = false;
            slug.extend(c.to_lowercase());
        } else {
            pending_dash = true;
        }
    }
    slug
}

/// A bad value as quoted back in an issue, cut short so a hostile field can't bloat it.
fn shown(value: &str) -> String {
    match value.char_indices().nth(MAX_SHOWN_CHARS) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
mod tests;
