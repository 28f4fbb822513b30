//! Tests of the Shopify CSV importer.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;

/// The header of the test files: every column the importer reads, in its order.
fn header_line() -> String {
    Column::ALL.map(Column::name).join(",")
}

/// One CSV line with the given columns set and the rest empty, quoted where needed.
fn row(fields: &[(&str, &str)]) -> String {
    for (name, _) in fields {
        assert!(
            Column::ALL.iter().any(|column| column.name() == *name),
            "test row names an unknown column {name}"
        );
    }
    Column::ALL
        .iter()
        .map(|column| {
            let value = fields
                .iter()
                .find(|(name, _)| *name == column.name())
                .map_or("", |(_, value)| *value);
            if value.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", value.replace('"', "\"\""))
            } else {
                value.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A file of the test header and `rows`, one per line.
fn file(rows: &[String]) -> String {
    let mut text = header_line();
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    text
}

/// The first row of a one-option product `handle`.
fn first_row(handle: &str, title: &str, value: &str, sku: &str, price: &str) -> String {
    row(&[
        ("Handle", handle),
        ("Title", title),
        ("Option1 Name", "Size"),
        ("Option1 Value", value),
        ("Variant SKU", sku),
        ("Variant Price", price),
    ])
}

/// A later variant row of a one-option product `handle`.
fn variant_row(handle: &str, value: &str, sku: &str, price: &str) -> String {
    row(&[
        ("Handle", handle),
        ("Option1 Value", value),
        ("Variant SKU", sku),
        ("Variant Price", price),
    ])
}

fn parse_with(text: &str, currency: &str) -> ParsedCatalog {
    parse_shopify_csv(text.as_bytes(), &ImportOptions::new(currency))
        .expect("the file as a whole is readable")
}

fn parse(text: &str) -> ParsedCatalog {
    parse_with(text, "USD")
}

/// The lines of the issues, in order.
fn issue_lines(catalog: &ParsedCatalog) -> Vec<u64> {
    catalog.errors.iter().map(|issue| issue.line).collect()
}

fn only_issue(catalog: &ParsedCatalog) -> &ImportIssue {
    assert_eq!(catalog.errors.len(), 1, "issues: {:?}", catalog.errors);
    &catalog.errors[0]
}

/// `../../shared/catalogs` from the crate, where real exports live on work machines.
fn shared_catalogs() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/catalogs");
    dir.is_dir().then_some(dir)
}

fn demo_catalog() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-catalog.csv");
    fs::read(path).expect("the demo catalog ships with the crate")
}

#[test]
fn shared_catalogs_import_without_errors_and_with_their_counts() {
    let Some(dir) = shared_catalogs() else {
        eprintln!("skipped: no shared catalogs next to the repository");
        return;
    };
    // Counted outside this parser: distinct handles, and rows with an option value,
    // SKU or price.
    let expected = [
        ("products-bold.csv", 14, 42),
        ("products-default.csv", 18, 38),
        ("products-edge.csv", 18, 37),
        ("products-noir.csv", 18, 41),
    ];
    for (name, products, variants) in expected {
        let bytes = fs::read(dir.join(name)).expect("shared catalog is readable");
        let catalog = parse_shopify_csv(&bytes, &ImportOptions::default()).expect(name);
        assert_eq!(catalog.errors, [], "{name}");
        assert_eq!(catalog.products.len(), products, "{name}");
        assert_eq!(catalog.variant_count, variants, "{name}");
    }

    // A catalog added later must at least import cleanly.
    for entry in fs::read_dir(&dir).expect("shared catalogs are listable") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|ext| ext == "csv") {
            let bytes = fs::read(&path).expect("shared catalog is readable");
            let catalog = parse_shopify_csv(&bytes, &ImportOptions::default())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(catalog.errors, [], "{}", path.display());
        }
    }
}

#[test]
fn shared_catalog_rows_map_onto_products_and_variants() {
    let Some(dir) = shared_catalogs() else {
        eprintln!("skipped: no shared catalogs next to the repository");
        return;
    };
    let bytes = fs::read(dir.join("products-bold.csv")).expect("shared catalog");
    let catalog = parse_shopify_csv(&bytes, &ImportOptions::default()).expect("parses");

    let hoodie = &catalog.products[0];
    assert_eq!(hoodie.id.as_str(), "essential-hoodie");
    assert_eq!(hoodie.option_names, ["Size", "Color"]);
    assert_eq!(hoodie.status, "active");
    assert_eq!(
        hoodie.collections.first().map(String::as_str),
        Some("hoodies")
    );
    let first = &hoodie.variants[0];
    assert_eq!(first.id.as_str(), "SC-HOD-001-S-BK");
    assert_eq!(first.option_values, ["S", "Black"]);
    assert_eq!(
        (first.price_minor, first.compare_at_minor, first.stock),
        (8900, Some(11000), Some(15))
    );
    assert_eq!(hoodie.images.len(), 2);
}

#[test]
fn demo_catalog_parses_into_14_products_and_43_variants() {
    let catalog = parse_shopify_csv(&demo_catalog(), &ImportOptions::default())
        .expect("the demo catalog is readable");

    assert_eq!(catalog.errors, []);
    assert_eq!(catalog.products.len(), 14);
    assert_eq!(catalog.variant_count, 43);
    let mut types: Vec<&str> = catalog
        .products
        .iter()
        .map(|p| p.product_type.as_str())
        .collect();
    types.dedup();
    assert_eq!(types, ["Watches", "Bags", "Knitwear", "Home"]);
}

#[test]
fn demo_catalog_has_the_variants_demos_rely_on() {
    let catalog = parse_shopify_csv(&demo_catalog(), &ImportOptions::default())
        .expect("the demo catalog is readable");
    let variants = || catalog.products.iter().flat_map(|p| p.variants.iter());

    let last_units: Vec<&str> = variants()
        .filter(|v| v.stock == Some(1))
        .map(|v| v.id.as_str())
        .collect();
    assert_eq!(last_units, ["VDS-WAT-MER-42MM-BLA"]);
    let backorders: Vec<&str> = variants()
        .filter(|v| v.inventory_policy == InventoryPolicy::Continue)
        .map(|v| v.id.as_str())
        .collect();
    assert_eq!(backorders, ["VDS-WAT-TDP-BLU"]);
    assert!(variants().any(|v| v.compare_at_minor.is_some()));
    assert!(variants().any(|v| v.stock.is_none()));

    let mug = catalog
        .products
        .iter()
        .find(|p| p.title == "Café Crème Mug")
        .expect("the mug is in the demo");
    assert_eq!(mug.variants[1].option_values, ["Café Noir"]);
    assert!(mug.collections.contains(&"fait-à-la-main".to_owned()));
    let napkins = catalog
        .products
        .iter()
        .find(|p| p.id.as_str() == "linen-napkin-set")
        .expect("the napkins are in the demo");
    assert_eq!(napkins.option_names, ["Title"]);
    assert_eq!(napkins.variants[0].option_values, ["Default Title"]);
    let sized_and_coloured = catalog
        .products
        .iter()
        .filter(|p| p.option_names == ["Size", "Color"])
        .count();
    assert!(sized_and_coloured >= 3);
    let gift_ideas = catalog
        .products
        .iter()
        .filter(|p| p.collections.contains(&"gift-ideas".to_owned()))
        .count();
    assert!(gift_ideas >= 4);
}

#[test]
fn demo_catalog_images_are_small_local_files() {
    let catalog = parse_shopify_csv(&demo_catalog(), &ImportOptions::default())
        .expect("the demo catalog is readable");
    let images = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo-images");

    let product_images = catalog.products.iter().flat_map(|p| &p.images);
    let variant_images = catalog
        .products
        .iter()
        .flat_map(|p| &p.variants)
        .filter_map(|v| v.image.as_ref());
    for src in product_images.map(|i| &i.src).chain(variant_images) {
        let name = src
            .strip_prefix("/demo/images/")
            .unwrap_or_else(|| panic!("{src} is not a local demo image"));
        let size = fs::metadata(images.join(name))
            .unwrap_or_else(|_| panic!("{name} is missing from assets/demo-images"))
            .len();
        assert!(size < 2048, "{name} is {size} bytes");
    }
}

#[test]
fn demo_catalog_header_is_the_shopify_export_header() {
    let Some(dir) = shared_catalogs() else {
        eprintln!("skipped: no shared catalogs next to the repository");
        return;
    };
    let shared = fs::read_to_string(dir.join("products-bold.csv")).expect("shared catalog");
    let demo = demo_catalog();
    let demo = std::str::from_utf8(&demo).expect("the demo catalog is UTF-8");
    assert_eq!(demo.lines().next(), shared.lines().next());
}

#[test]
fn the_column_table_is_in_discriminant_order() {
    for (index, column) in Column::ALL.iter().enumerate() {
        assert_eq!(*column as usize, index, "{column:?}");
    }
}

#[test]
fn missing_required_columns_are_named() {
    let text = "Handle,Vendor,Option1 Name\ntee,Acme,Size\n";

    let error = parse_shopify_csv(text.as_bytes(), &ImportOptions::default()).unwrap_err();

    assert_eq!(
        error,
        ImportError::MissingColumns {
            columns: vec!["Title".to_owned(), "Variant Price".to_owned()]
        }
    );
    assert!(error.to_string().contains("Title, Variant Price"));
}

#[test]
fn header_names_match_trimmed_and_in_any_case_after_a_byte_order_mark() {
    let text = "\u{feff} handle ,TITLE, variant price ,Extra\ntee,Tee,10.00,ignored\n";

    let catalog = parse(text);

    assert_eq!(catalog.errors, []);
    assert_eq!(catalog.products[0].title, "Tee");
    assert_eq!(catalog.products[0].variants[0].price_minor, 1000);
}

#[test]
fn a_bad_price_is_reported_on_its_line_and_drops_its_product() {
    let text = file(&[
        first_row("tee", "Tee", "S", "TEE-S", "10.00"),
        variant_row("tee", "M", "TEE-M", "ten"),
        first_row("cap", "Cap", "One", "CAP-1", "12.00"),
    ]);

    let catalog = parse(&text);

    let issue = only_issue(&catalog);
    assert_eq!(issue.line, 3);
    assert!(issue.message.contains("Variant Price \"ten\""), "{issue:?}");
    let handles: Vec<&str> = catalog.products.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(handles, ["cap"]);
    assert_eq!(catalog.variant_count, 1);
}

#[test]
fn two_variants_with_the_same_option_values_are_a_duplicate_variant() {
    let text = file(&[
        first_row("tee", "Tee", "S", "TEE-S", "10.00"),
        variant_row("tee", "M", "TEE-M", "10.00"),
        variant_row("tee", "S", "TEE-S2", "10.00"),
    ]);

    let catalog = parse(&text);

    let issue = only_issue(&catalog);
    assert_eq!(issue.line, 4);
    assert!(issue.message.starts_with("duplicate variant"), "{issue:?}");
    assert!(catalog.products.is_empty());
}

#[test]
fn a_sku_used_twice_in_the_file_is_reported_on_its_second_line() {
    let text = file(&[
        first_row("tee", "Tee", "S", "SHARED", "10.00"),
        first_row("cap", "Cap", "One", "SHARED", "12.00"),
    ]);

    let catalog = parse(&text);

    let issue = only_issue(&catalog);
    assert_eq!(issue.line, 3);
    assert_eq!(issue.message, "SKU \"SHARED\" is already used on line 2");
    assert_eq!(catalog.products[0].id.as_str(), "tee");
}

#[test]
fn non_utf8_bytes_fail_the_file_naming_their_line() {
    let mut bytes = file(&[
        first_row("tee", "Tee", "S", "TEE-S", "10.00"),
        first_row("cap", "Cap", "One", "CAP-1", "12.00"),
    ])
    .into_bytes();
    let at = bytes.windows(3).position(|w| w == b"Cap").expect("cap row");
    bytes[at + 1] = 0xFF;

    let error = parse_shopify_csv(&bytes, &ImportOptions::default()).unwrap_err();

    assert_eq!(error, ImportError::NotUtf8 { line: 3 });
    assert!(error.to_string().contains("line 3"));
}

#[test]
fn a_file_over_max_bytes_is_refused_before_parsing() {
    let text = file(&[first_row("tee", "Tee", "S", "TEE-S", "10.00")]);
    let options = ImportOptions {
        max_bytes: text.len() - 1,
        ..ImportOptions::default()
    };

    let error = parse_shopify_csv(text.as_bytes(), &options).unwrap_err();

    assert_eq!(
        error,
        ImportError::TooLarge {
            size: text.len(),
            max: text.len() - 1
        }
    );
    // Even bytes that are not CSV at all are refused for their size alone.
    let garbage = vec![0xFF; 64];
    let options = ImportOptions {
        max_bytes: 63,
        ..ImportOptions::default()
    };
    assert!(matches!(
        parse_shopify_csv(&garbage, &options),
        Err(ImportError::TooLarge { .. })
    ));
}

#[test]
fn an_empty_file_is_refused() {
    for body in [&b""[..], b"\xEF\xBB\xBF", b"  \r\n\n"] {
        let result = parse_shopify_csv(body, &ImportOptions::default());
        assert_eq!(result, Err(ImportError::Empty), "{body:?}");
    }
}

#[test]
fn a_header_without_rows_is_an_empty_catalog() {
    let catalog = parse(&file(&[]));

    assert_eq!(catalog.products, []);
    assert_eq!(catalog.errors, []);
}

#[test]
fn an_unknown_currency_fails_the_file() {
    let text = file(&[first_row("tee", "Tee", "S", "TEE-S", "10.00")]);
    for code in ["ZZZ", "", "US", "XAU"] {
        let error = parse_shopify_csv(text.as_bytes(), &ImportOptions::new(code));
        assert_eq!(
            error,
            Err(ImportError::UnknownCurrency {
                code: code.to_owned()
            })
        );
    }
}

#[test]
fn a_ragged_row_is_an_error_of_its_line() {
    let mut text = file(&[
        first_row("tee", "Tee", "S", "TEE-S", "10.00"),
        first_row("cap", "Cap", "One", "CAP-1", "12.00"),
    ]);
    text.push_str("tee,,,M\n");
    text.push_str("short,row\n");

    let catalog = parse(&text);

    assert_eq!(issue_lines(&catalog), [4, 5]);
    assert!(catalog.errors[0]
        .message
        .contains("row has 4 fields but the header has 23"));
    let handles: Vec<&str> = catalog.products.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(handles, ["cap"]);
}

#[test]
fn a_quoted_multi_line_body_keeps_later_line_numbers_exact() {
    let body = "<p>Soft.</p>\n<ul>\n<li>\"Organic\", combed</li>\n</ul>";
    let first = row(&[
        ("Handle", "tee"),
        ("Title", "Tee"),
        ("Body (HTML)", body),
        ("Option1 Name", "Size"),
        ("Option1 Value", "S"),
        ("Variant Price", "10.00"),
    ]);
    // The first row spans lines 2 to 5; a blank line follows it.
    let text = file(&[
        first,
        String::new(),
        variant_row("tee", "M", "", "1,000.00"),
    ]);

    let catalog = parse(&text);
    assert_eq!(issue_lines(&catalog), [7]);

    // Windows line endings count the same.
    let crlf = text.replace('\n', "\r\n");
    assert_eq!(issue_lines(&parse(&crlf)), [7]);
    let fixed = text.replace("1,000.00", "1000.00");
    assert_eq!(parse(&fixed).products[0].body_html, body);
}

#[test]
fn an_unclosed_quote_fails_the_file_at_the_line_it_opens() {
    let mut text = file(&[first_row("tee", "Tee", "S", "TEE-S", "10.00")]);
    text.push_str("cap,\"Cap\nmore,10.00\n");

    let error = parse_shopify_csv(text.as_bytes(), &ImportOptions::default()).unwrap_err();

    assert!(
        matches!(error, ImportError::Csv { line: 3, .. }),
        "{error:?}"
    );
}

#[test]
fn unicode_titles_options_and_tags_round_trip() {
    let title = "夏のワンピース 🌻 فستان صيفي";
    let first = row(&[
        ("Handle", "natsu-dress"),
        ("Title", title),
        ("Vendor", "חנות הקיץ"),
        ("Type", "ワンピース"),
        ("Tags", "夏, 🌻 , שמלה, Été Doux"),
        ("Option1 Name", "サイズ"),
        ("Option1 Value", "小"),
        ("Option2 Name", "لون"),
        ("Option2 Value", "أزرق 💙"),
        ("Variant Price", "59.00"),
    ]);
    let second = row(&[
        ("Handle", "natsu-dress"),
        ("Option1 Value", "大"),
        ("Option2 Value", "أزرق 💙"),
        ("Variant Price", "59.00"),
    ]);

    let catalog = parse(&file(&[first, second]));

    assert_eq!(catalog.errors, []);
    let dress = &catalog.products[0];
    assert_eq!(dress.title, title);
    assert_eq!(dress.vendor, "חנות הקיץ");
    assert_eq!(dress.option_names, ["サイズ", "لون"]);
    assert_eq!(dress.variants[1].option_values, ["大", "أزرق 💙"]);
    assert_eq!(dress.tags, ["夏", "🌻", "שמלה", "Été Doux"]);
    // The emoji-only tag has no letters, so it makes no collection.
    assert_eq!(dress.collections, ["ワンピース", "夏", "שמלה", "été-doux"]);
    let json = serde_json::to_string(dress).expect("products serialise");
    let back: Product = serde_json::from_str(&json).expect("products deserialise");
    assert_eq!(&back, dress);
}

#[test]
fn jpy_and_kwd_prices_use_their_exponents() {
    let yen = file(&[first_row("tea", "Tea", "S", "", "1200")]);
    assert_eq!(
        parse_with(&yen, "JPY").products[0].variants[0].price_minor,
        1200
    );
    let yen_with_decimals = file(&[first_row("tea", "Tea", "S", "", "1200.5")]);
    assert_eq!(issue_lines(&parse_with(&yen_with_decimals, "JPY")), [2]);

    let dinar = file(&[first_row("tea", "Tea", "S", "", "3.25")]);
    assert_eq!(
        parse_with(&dinar, "KWD").products[0].variants[0].price_minor,
        3250
    );
    let lower_case = parse_with(&dinar, "kwd");
    assert_eq!(lower_case.products[0].variants[0].price_minor, 3250);
}

#[test]
fn prices_become_minor_units_and_malformed_prices_are_rejected() {
    let usd = |text| parse_price(Column::Price, text, 2);
    assert_eq!(usd("89.00"), Ok(8900));
    assert_eq!(usd("89"), Ok(8900));
    assert_eq!(usd("89.5"), Ok(8950));
    assert_eq!(usd("0"), Ok(0));
    assert_eq!(usd("007.10"), Ok(710));
    assert_eq!(parse_price(Column::Price, "1.234", 3), Ok(1234));
    assert_eq!(
        parse_price(Column::Price, "92233720368547758.07", 2),
        Ok(i64::MAX)
    );

    for (text, complaint) in [
        ("-1.00", "negative"),
        ("1,000.00", "thousands separator"),
        ("89,50", "decimal comma"),
        ("89.999", "more than 2 decimals"),
        ("abc", "not a number"),
        ("1e3", "not a number"),
        ("89.", "not a number"),
        (".5", "not a number"),
        ("+5", "not a number"),
        ("$5", "not a number"),
        ("5 00", "not a number"),
        ("NaN", "not a number"),
        ("92233720368547758.08", "too large"),
        ("99999999999999999999999999", "too large"),
    ] {
        let message = usd(text).expect_err(text);
        assert!(message.contains(complaint), "{text}: {message}");
    }
}

#[test]
fn compare_at_prices_are_optional_and_checked_like_prices() {
    let with = |compare: &str| {
        file(&[row(&[
            ("Handle", "tee"),
            ("Title", "Tee"),
            ("Variant Price", "10.00"),
            ("Variant Compare At Price", compare),
        ])])
    };

    assert_eq!(
        parse(&with("")).products[0].variants[0].compare_at_minor,
        None
    );
    let catalog = parse(&with("12.5"));
    assert_eq!(catalog.products[0].variants[0].compare_at_minor, Some(1250));
    let issue = only_issue(&parse(&with("-12"))).clone();
    assert!(
        issue.message.contains("Variant Compare At Price"),
        "{issue:?}"
    );
}

#[test]
fn stock_is_a_whole_number_and_blank_means_untracked() {
    let with = |qty: &str| {
        file(&[row(&[
            ("Handle", "tee"),
            ("Title", "Tee"),
            ("Variant Price", "10.00"),
            ("Variant Inventory Qty", qty),
        ])])
    };

    assert_eq!(parse(&with("")).products[0].variants[0].stock, None);
    assert_eq!(parse(&with("7")).products[0].variants[0].stock, Some(7));
    assert_eq!(parse(&with("-3")).products[0].variants[0].stock, Some(-3));
    for bad in ["2.5", "many", "99999999999999999999"] {
        assert_eq!(issue_lines(&parse(&with(bad))), [2], "{bad}");
    }
}

#[test]
fn inventory_policy_defaults_to_deny_and_accepts_only_deny_or_continue() {
    let with = |policy: &str| {
        file(&[row(&[
            ("Handle", "tee"),
            ("Title", "Tee"),
            ("Variant Price", "10.00"),
            ("Variant Inventory Policy", policy),
        ])])
    };
    let policy = |text| parse(&with(text)).products[0].variants[0].inventory_policy;

    assert_eq!(policy(""), InventoryPolicy::Deny);
    assert_eq!(policy("deny"), InventoryPolicy::Deny);
    assert_eq!(policy("continue"), InventoryPolicy::Continue);
    assert_eq!(policy("Continue"), InventoryPolicy::Continue);
    let issue = only_issue(&parse(&with("backorder"))).clone();
    assert_eq!(issue.line, 2);
    assert!(issue.message.contains("not deny or continue"));
}

#[test]
fn status_is_taken_as_given_or_follows_published() {
    let with = |status: &str, published: &str| {
        file(&[row(&[
            ("Handle", "tee"),
            ("Title", "Tee"),
            ("Variant Price", "10.00"),
            ("Status", status),
            ("Published", published),
        ])])
    };
    let status = |s, p| parse(&with(s, p)).products[0].status.clone();

    assert_eq!(status("", ""), "active");
    assert_eq!(status("", "TRUE"), "active");
    assert_eq!(status("", "FALSE"), "draft");
    assert_eq!(status("archived", "TRUE"), "archived");
    assert_eq!(status("Draft", ""), "draft");
    assert_eq!(status("active", "FALSE"), "active");
    assert_eq!(issue_lines(&parse(&with("deleted", ""))), [2]);
    assert_eq!(issue_lines(&parse(&with("", "yes"))), [2]);
}

#[test]
fn images_are_deduplicated_by_src_and_ordered_by_position_then_appearance() {
    let image = |src: &str, position: &str, alt: &str| {
        row(&[
            ("Handle", "tee"),
            ("Image Src", src),
            ("Image Position", position),
            ("Image Alt Text", alt),
        ])
    };
    let first = row(&[
        ("Handle", "tee"),
        ("Title", "Tee"),
        ("Variant Price", "10.00"),
        ("Image Src", "https://cdn.example/back.jpg"),
        ("Image Position", "2"),
        ("Variant Image", "https://cdn.example/front.jpg"),
    ]);
    let text = file(&[
        first,
        image("/img/loose.svg", "", "no position"),
        image("https://cdn.example/front.jpg", "1", "front"),
        image("https://cdn.example/back.jpg", "5", "repeat"),
        image("/img/later-loose.svg", "", ""),
    ]);

    let catalog = parse(&text);

    assert_eq!(catalog.errors, []);
    let tee = &catalog.products[0];
    let order: Vec<(&str, u32)> = tee
        .images
        .iter()
        .map(|i| (i.src.as_str(), i.position))
        .collect();
    assert_eq!(
        order,
        [
            ("https://cdn.example/front.jpg", 1),
            ("https://cdn.example/back.jpg", 2),
            ("/img/loose.svg", 3),
            ("/img/later-loose.svg", 4),
        ]
    );
    assert_eq!(tee.images[0].alt, "front");
    assert_eq!(tee.variants.len(), 1);
    assert_eq!(
        tee.variants[0].image.as_deref(),
        Some("https://cdn.example/front.jpg")
    );
}

#[test]
fn image_urls_must_be_http_or_local_paths() {
    for src in [
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "img.png",
    ] {
        let text = file(&[row(&[
            ("Handle", "tee"),
            ("Title", "Tee"),
            ("Variant Price", "10.00"),
            ("Image Src", src),
        ])]);
        assert_eq!(issue_lines(&parse(&text)), [2], "{src}");
    }
    let text = file(&[row(&[
        ("Handle", "tee"),
        ("Title", "Tee"),
        ("Variant Price", "10.00"),
        ("Image Position", "first"),
        ("Image Src", "HTTPS://cdn.example/a.jpg"),
    ])]);
    assert!(only_issue(&parse(&text)).message.contains("Image Position"));
}

#[test]
fn a_product_without_options_is_one_default_title_variant() {
    let text = file(&[row(&[
        ("Handle", "vase"),
        ("Title", "Vase"),
        ("Variant Price", "65.00"),
    ])]);

    let vase = &parse(&text).products[0];

    assert_eq!(vase.option_names, ["Title"]);
    assert_eq!(vase.variants.len(), 1);
    assert_eq!(vase.variants[0].option_values, ["Default Title"]);
    assert_eq!(vase.variants[0].position, 1);

    // A second variant of an option-less product repeats "Default Title".
    let two = file(&[
        row(&[
            ("Handle", "vase"),
            ("Title", "Vase"),
            ("Variant Price", "65.00"),
        ]),
        row(&[
            ("Handle", "vase"),
            ("Variant SKU", "V2"),
            ("Variant Price", "70"),
        ]),
    ]);
    let issue = only_issue(&parse(&two)).clone();
    assert_eq!(issue.line, 3);
    assert!(issue.message.starts_with("duplicate variant"));
}

#[test]
fn option_values_must_match_the_named_options() {
    let two_options = row(&[
        ("Handle", "tee"),
        ("Title", "Tee"),
        ("Option1 Name", "Size"),
        ("Option1 Value", "S"),
        ("Option2 Name", "Color"),
        ("Option2 Value", "Red"),
        ("Variant Price", "10.00"),
    ]);
    let missing_color = variant_row("tee", "M", "", "10.00");
    let extra_value = row(&[
        ("Handle", "tee"),
        ("Option1 Value", "L"),
        ("Option2 Value", "Red"),
        ("Option3 Value", "Cotton"),
        ("Variant Price", "10.00"),
    ]);

    let catalog = parse(&file(&[two_options, missing_color, extra_value]));

    assert_eq!(issue_lines(&catalog), [3, 4]);
    assert_eq!(
        catalog.errors[0].message,
        "missing value for option \"Color\""
    );
    assert!(catalog.errors[1].message.contains("no Option3 Name"));

    let gap = row(&[
        ("Handle", "cap"),
        ("Title", "Cap"),
        ("Option2 Name", "Color"),
        ("Option2 Value", "Red"),
        ("Variant Price", "10.00"),
    ]);
    assert!(only_issue(&parse(&file(&[gap])))
        .message
        .contains("Option1 Name is blank"));
}

#[test]
fn rows_of_one_handle_need_not_be_adjacent() {
    let text = file(&[
        first_row("tee", "Tee", "S", "TEE-S", "10.00"),
        first_row("cap", "Cap", "One", "CAP-1", "12.00"),
        variant_row("tee", "M", "TEE-M", "11.00"),
    ]);

    let catalog = parse(&text);

    assert_eq!(catalog.errors, []);
    let tee = &catalog.products[0];
    assert_eq!(tee.id.as_str(), "tee");
    let positions: Vec<(&str, u32)> = tee
        .variants
        .iter()
        .map(|v| (v.id.as_str(), v.position))
        .collect();
    assert_eq!(positions, [("TEE-S", 1), ("TEE-M", 2)]);
    assert_eq!(catalog.variant_count, 3);
}

#[test]
fn variant_ids_without_sku_are_stable_and_independent_of_row_order() {
    let forward = file(&[
        first_row("tee", "Tee", "S", "", "10.00"),
        variant_row("tee", "M", "", "10.00"),
    ]);
    let backward = file(&[
        first_row("tee", "Tee", "M", "", "10.00"),
        variant_row("tee", "S", "", "10.00"),
    ]);
    let ids = |text: &str| {
        let mut ids: Vec<String> = parse(text).products[0]
            .variants
            .iter()
            .map(|v| v.id.to_string())
            .collect();
        ids.sort();
        ids
    };

    assert_eq!(ids(&forward), ids(&backward));
    let small = derived_variant_id("tee", &["S".to_owned()]);
    assert_eq!(small, derived_variant_id("tee", &["S".to_owned()]));
    assert!(small.starts_with("tee-"));
    assert_ne!(small, derived_variant_id("tee", &["M".to_owned()]));
    assert_ne!(
        derived_variant_id("tee", &["ab".to_owned(), "c".to_owned()]),
        derived_variant_id("tee", &["a".to_owned(), "bc".to_owned()])
    );
    assert_eq!(parse(&forward).products[0].variants[0].sku, None);
}

#[test]
fn tags_are_trimmed_and_collections_come_from_type_then_tags() {
    let text = file(&[row(&[
        ("Handle", "tee"),
        ("Title", "Tee"),
        ("Type", "T-Shirts"),
        ("Tags", " Summer Sale ,bestseller,, t-shirts ,Summer Sale"),
        ("Variant Price", "10.00"),
    ])]);

    let tee = &parse(&text).products[0];

    assert_eq!(tee.tags, ["Summer Sale", "bestseller", "t-shirts"]);
    assert_eq!(tee.collections, ["t-shirts", "summer-sale", "bestseller"]);
}

#[test]
fn slugs_keep_letters_of_every_script_and_collapse_the_rest() {
    assert_eq!(slug("Café Crème"), "café-crème");
    assert_eq!(slug("  --Gift  Ideas!! "), "gift-ideas");
    assert_eq!(slug("ÉTÉ 2024"), "été-2024");
    assert_eq!(slug("夏の新作"), "夏の新作");
    assert_eq!(slug("🌻"), "");
}

#[test]
fn oversized_and_control_character_fields_are_rejected() {
    let long_title = "T".repeat(MAX_TITLE_CHARS + 1);
    let long_body = "b".repeat(MAX_BODY_BYTES + 1);
    let many_tags = (0..=MAX_TAGS)
        .map(|n| format!("tag{n}"))
        .collect::<Vec<_>>();
    let many_tags = many_tags.join(",");
    let long_handle = "h".repeat(MAX_HANDLE_CHARS + 1);
    let cases: [(&str, &str, &str); 6] = [
        ("Title", long_title.as_str(), "longer than 255"),
        ("Body (HTML)", long_body.as_str(), "longer than 65536 bytes"),
        ("Tags", many_tags.as_str(), "more than 250 tags"),
        ("Handle", long_handle.as_str(), "Handle is longer"),
        ("Handle", "bad\u{7}handle", "control characters"),
        ("Title", "Tee\u{0}", "control characters"),
    ];
    for (column, value, complaint) in cases {
        let mut fields = vec![("Handle", "tee"), ("Title", "Tee"), ("Variant Price", "1")];
        fields.retain(|(name, _)| *name != column);
        fields.push((column, value));
        let catalog = parse(&file(&[row(&fields)]));
        let issue = only_issue(&catalog);
        assert!(issue.message.contains(complaint), "{column}: {issue:?}");
    }
    // Tabs and line breaks are fine in a description.
    let body = row(&[
        ("Handle", "tee"),
        ("Title", "Tee"),
        ("Body (HTML)", "<p>\tSoft</p>\r\n<p>Warm</p>"),
        ("Variant Price", "1"),
    ]);
    assert_eq!(parse(&file(&[body])).errors, []);
}

#[test]
fn rows_without_handle_are_reported_and_blank_rows_are_skipped() {
    let mut text = file(&[
        first_row("tee", "Tee", "S", "TEE-S", "10.00"),
        row(&[("Title", "Orphan"), ("Variant Price", "1")]),
    ]);
    text.push_str(&",".repeat(22));
    text.push('\n');

    let catalog = parse(&text);

    let issue = only_issue(&catalog);
    assert_eq!(
        (issue.line, issue.message.as_str()),
        (3, "row has no Handle")
    );
    assert_eq!(catalog.products.len(), 1);
}

#[test]
fn a_product_lists_every_issue_it_has() {
    let text = file(&[
        row(&[
            ("Handle", "tee"),
            ("Title", ""),
            ("Option1 Name", "Size"),
            ("Option1 Value", "S"),
            ("Variant Price", "x"),
            ("Variant Inventory Qty", "lots"),
        ]),
        variant_row("tee", "M", "", "-1"),
    ]);

    let catalog = parse(&text);

    assert_eq!(issue_lines(&catalog), [2, 2, 2, 3]);
    assert!(catalog.products.is_empty());
}

#[test]
fn a_product_without_a_variant_row_is_reported() {
    let text = file(&[row(&[
        ("Handle", "tee"),
        ("Title", "Tee"),
        ("Image Src", "/img/tee.svg"),
    ])]);

    let issue = only_issue(&parse(&text)).clone();

    assert_eq!(issue.line, 2);
    assert!(issue.message.contains("no variant"));
}

/// A small deterministic generator, so a failing input can be replayed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

/// Parses `bytes` with a small limit and checks what any successful result promises.
fn parse_anything(bytes: &[u8], currency: &str) {
    let options = ImportOptions {
        currency: currency.to_owned(),
        max_bytes: 1 << 16,
    };
    if let Ok(catalog) = parse_shopify_csv(bytes, &options) {
        let lines = 2 + bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
        for issue in &catalog.errors {
            assert!((1..=lines as u64).contains(&issue.line), "{issue:?}");
        }
        let variants: usize = catalog.products.iter().map(|p| p.variants.len()).sum();
        assert_eq!(variants, catalog.variant_count);
    }
}

#[test]
fn garbage_truncated_and_mutated_files_never_panic() {
    let sample = file(&[
        first_row("tee", "Tee \"Classic\", soft", "S", "TEE-S", "10.00"),
        variant_row("tee", "M", "", "10.5"),
        row(&[
            ("Handle", "tee"),
            ("Image Src", "/i.svg"),
            ("Image Position", "1"),
        ]),
        first_row("mug", "Café Crème Mug ☕", "Grand", "MUG", "24"),
    ])
    .into_bytes();
    let alphabet = b",\"\n\r ;.-0123456789abcHTSV\xC3\xA9\xFF\xEF\xBB\xBF";
    let mut random = XorShift(0x5EED_1234_ABCD_0042);

    // Every prefix of a valid file, in each currency exponent.
    for end in 0..=sample.len() {
        parse_anything(&sample[..end], "USD");
        parse_anything(&sample[..end], "JPY");
    }
    // Random bytes, mostly from the characters CSV cares about.
    for _ in 0..2_000 {
        let length = random.below(300);
        let bytes: Vec<u8> = (0..length)
            .map(|_| match random.below(4) {
                0 => random.next() as u8,
                _ => alphabet[random.below(alphabet.len())],
            })
            .collect();
        parse_anything(&bytes, "KWD");
        let mut with_header = header_line().into_bytes();
        with_header.push(b'\n');
        with_header.extend_from_slice(&bytes);
        parse_anything(&with_header, "USD");
    }
    // A valid file with a few bytes changed, inserted or removed.
    for _ in 0..2_000 {
        let mut bytes = sample.clone();
        for _ in 0..1 + random.below(4) {
            let at = random.below(bytes.len());
            let byte = alphabet[random.below(alphabet.len())];
            match random.below(3) {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => {
                    bytes.remove(at);
                }
            }
        }
        parse_anything(&bytes, "USD");
    }
}
