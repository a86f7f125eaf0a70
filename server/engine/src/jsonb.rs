//! Rows for one SQLite statement as an array in SQLite's binary JSON (JSONB, <https://sqlite.org/jsonb.html>), which `jsonb_each` takes apart without parsing text: no escaping here, no parsing and unescaping there.
//
// Hand-written: the format is SQLite's own (stable since 3.45), no crate writes it, and the
// rows need four of its element types. Each element is a header (its type in the low four
// bits; its payload's size in the high four, or in the 1, 2, 4 or 8 big-endian bytes that
// follow when the high bits say 12, 13, 14 or 15), then the payload.

const NULL: u8 = 0;
/// An integer, as its ASCII digits.
const INT: u8 = 3;
/// Text as it is (SQLite escapes it only if it is ever printed as JSON).
const TEXT_RAW: u8 = 10;
const ARRAY: u8 = 11;

fn header(out: &mut Vec<u8>, kind: u8, size: usize) {
    match size {
        0..=11 => out.push(((size as u8) << 4) | kind),
        12..=0xFF => {
            out.push((12 << 4) | kind);
            out.push(size as u8);
        }
        0x100..=0xFFFF => {
            out.push((13 << 4) | kind);
            out.extend_from_slice(&(size as u16).to_be_bytes());
        }
        0x1_0000..=0xFFFF_FFFF => {
            out.push((14 << 4) | kind);
            out.extend_from_slice(&(size as u32).to_be_bytes());
        }
        _ => {
            out.push((15 << 4) | kind);
            out.extend_from_slice(&(size as u64).to_be_bytes());
        }
    }
}

/// An array of rows, each an array of integers, texts and nulls.
#[derive(Default)]
pub struct Rows {
    body: Vec<u8>,
    row: Vec<u8>,
    count: usize,
}

impl Rows {
    pub fn with_capacity(bytes: usize) -> Self {
        Rows {
            body: Vec::with_capacity(bytes),
            row: Vec::with_capacity(256),
            count: 0,
        }
    }

    pub fn int(&mut self, value: i64) -> &mut Self {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(value).as_bytes();
        header(&mut self.row, INT, digits.len());
        self.row.extend_from_slice(digits);
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        header(&mut self.row, TEXT_RAW, value.len());
        self.row.extend_from_slice(value.as_bytes());
        self
    }

    pub fn null(&mut self) -> &mut Self {
        header(&mut self.row, NULL, 0);
        self
    }

    pub fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.text(value),
            None => self.null(),
        }
    }

    /// Ends the row the values since the last one make.
    pub fn end_row(&mut self) {
        header(&mut self.body, ARRAY, self.row.len());
        self.body.append(&mut self.row);
        self.count += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The array's bytes, to bind as a BLOB; the rows start again empty.
    pub fn take(&mut self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 9);
        header(&mut out, ARRAY, self.body.len());
        out.append(&mut self.body);
        self.count = 0;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_the_header_form_their_length_needs() {
        for (size, len, first) in [
            (0, 1, 0x0A),
            (11, 1, 0xBA),
            (12, 2, 0xCA),
            (255, 2, 0xCA),
            (256, 3, 0xDA),
            (65_535, 3, 0xDA),
            (65_536, 5, 0xEA),
        ] {
            let mut out = Vec::new();
            header(&mut out, TEXT_RAW, size);
            assert_eq!((out.len(), out[0]), (len, first), "size {size}");
        }
        let mut out = Vec::new();
        header(&mut out, TEXT_RAW, 300);
        assert_eq!(out, [0xDA, 0x01, 0x2C]);
    }

    #[test]
    fn rows_are_arrays_in_an_array() {
        let mut rows = Rows::default();
        rows.int(-42).text("é\"").null().end_row();
        assert!(!rows.is_empty());
        // [[-42,"é\"",null]]: the row is 3 + 1 + 4 + 1 = 9 bytes, the array 10.
        let bytes = rows.take();
        assert_eq!(
            bytes,
            [0xAB, 0x9B, 0x33, b'-', b'4', b'2', 0x3A, 0xC3, 0xA9, b'"', 0x00]
        );
        assert!(rows.is_empty());
    }

    #[tokio::test]
    async fn sqlite_reads_the_rows_as_written() {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("an in-memory SQLite");
        let odd = "é \"quoted\" \\ \n\t line \u{1F600}";
        let long = "x".repeat(70_000);
        let mut rows = Rows::with_capacity(0);
        rows.int(-42).text(odd).null().end_row();
        rows.int(i64::MAX)
            .text(&long)
            .opt_text(Some(""))
            .opt_text(None)
            .end_row();
        let (json,): (String,) = sqlx::query_as("SELECT json(?1)")
            .bind(rows.take())
            .fetch_one(&mut conn)
            .await
            .expect("SQLite reads the array");
        let read: serde_json::Value = serde_json::from_str(&json).expect("SQLite prints JSON");
        let expected = serde_json::json!([[-42, odd, null], [i64::MAX, long, "", null]]);
        assert_eq!(read, expected);
        // As the inserts read them: one row per element, in order, each column typed.
        let mut rows = Rows::default();
        rows.int(1).text("a").end_row();
        rows.int(2).opt_text(None).end_row();
        let read: Vec<(i64, Option<String>)> =
            sqlx::query_as("SELECT value ->> 0, value ->> 1 FROM jsonb_each(?1) ORDER BY key")
                .bind(rows.take())
                .fetch_all(&mut conn)
                .await
                .expect("jsonb_each takes the array apart");
        assert_eq!(read, [(1, Some("a".to_owned())), (2, None)]);
    }
}
