//! The `gzip_header` target: the gzip wrapper's header parser of `evloop::http` (feature
//! `gzip`), which must measure a header the same however much of the input it is shown.

use evloop::http::gzip_header_len;

/// The `gzip_header` target. For the whole input and every prefix: a measured header is at
/// least the 10 fixed bytes and within what was shown; a prefix that measures a header measures
/// the whole's; a prefix that fails fails as the whole does; and once a prefix reaches the
/// whole's header end, it measures exactly that header.
pub fn gzip_header(data: &[u8]) {
    let whole = gzip_header_len(data);
    if let Ok(Some(n)) = whole {
        assert!((10..=data.len()).contains(&n), "{n} of {}", data.len());
    }
    for cut in 0..=data.len() {
        let part = gzip_header_len(&data[..cut]);
        match (part, whole) {
            (Ok(Some(n)), _) => assert_eq!(whole, Ok(Some(n)), "cut at {cut}"),
            (Err(e), _) => assert_eq!(whole, Err(e), "cut at {cut}"),
            (Ok(None), Ok(Some(n))) => assert!(cut < n, "cut at {cut} is past the header's {n} bytes"),
            (Ok(None), _) => {}
        }
    }
}
