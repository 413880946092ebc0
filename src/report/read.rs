//! Reading results files for `compare`: regular files only, bounded in
//! bytes however large they claim to be or grow, and CSVs of any schema
//! this version knows, with errors naming the file and the line as an
//! editor counts it.

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use anyhow::Result;

use super::files::csv_header_line;
use super::{schema_of_header, ResultRow, CSV_COLUMNS, SCHEMA_VERSION};
use crate::cli::typed_path;
use crate::{usage, usage_bail};

/// The most `compare` reads from one results file. Checked before reading,
/// and enforced while reading (the file may grow meanwhile), so memory stays
/// bounded whatever is passed.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// The whole of a results file for `compare`: a regular file (checked
/// before opening, since opening a FIFO would wait for a writer) of at most
/// [`MAX_INPUT_BYTES`], read with that bound whatever its size claims.
pub fn read_results_file(path: &Path) -> Result<Vec<u8>> {
    let shown = typed_path(path);
    let meta = fs::metadata(path).map_err(|e| usage!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        usage_bail!("cannot read {shown}: not a regular file; compare reads results files (CSV or JSON) only");
    }
    let too_big = || {
        usage!(
            "{shown}: larger than {} MiB, the limit for one results file",
            MAX_INPUT_BYTES >> 20
        )
    };
    if meta.len() > MAX_INPUT_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| usage!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Reads a results CSV of any schema version this one knows (columns a
/// version did not write read as empty): a regular file of at most
/// [`MAX_INPUT_BYTES`]. Errors name the file and
/// line; a value, min, max or cv_pct that is not a finite, non-negative
/// number makes the file malformed.
pub fn read_csv(path: &Path) -> Result<Vec<ResultRow>> {
    let shown = typed_path(path);
    let bytes = read_results_file(path)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let line_at = |pos: Option<&csv::Position>| line_of(&bytes, pos);
    let headers = rdr
        .headers()
        .map_err(|e| usage!("{shown}:{}: {e}", line_at(e.position())))?
        .clone();
    let got: Vec<&str> = headers.iter().collect();
    if schema_of_header(&got).is_none() {
        usage_bail!(
            "{shown}:{}: not a hashflops results file of schema 1 to {SCHEMA_VERSION} (expected the header `{}`)",
            line_at(headers.position()),
            csv_header_line()
        );
    }
    let mut rows = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = line_at(e.position());
                usage_bail!("{shown}:{line}: malformed row: {}", csv_error(&e));
            }
        }
        let line = line_at(rec.position());
        let row: ResultRow = rec
            .deserialize(Some(&headers))
            .map_err(|e| usage!("{shown}:{line}: malformed row: {}", csv_error(&e)))?;
        if let Some(bad) = bad_number(&row) {
            usage_bail!("{shown}:{line}: malformed row: {bad}");
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The line of the file (from 1, as editors count) on which the record at
/// `pos` begins. The csv crate's own line count drifts on CRLF line ends
/// and blank lines, and its byte offset may point at the line end before
/// the record; so lines are counted here, from the first byte of the record.
fn line_of(bytes: &[u8], pos: Option<&csv::Position>) -> u64 {
    let Some(pos) = pos else {
        return 1;
    };
    let mut at = (pos.byte() as usize).min(bytes.len());
    while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
        at += 1;
    }
    1 + bytes[..at].iter().filter(|&&c| c == b'\n').count() as u64
}

/// A csv error without the crate's own record and line numbers, which
/// count differently from the file's lines named before it.
fn csv_error(e: &csv::Error) -> String {
    use csv::{DeserializeErrorKind, ErrorKind};
    match e.kind() {
        ErrorKind::Deserialize { err, .. } => {
            let what = match err.kind() {
                DeserializeErrorKind::Message(m) | DeserializeErrorKind::Unsupported(m) => {
                    m.clone()
                }
                DeserializeErrorKind::UnexpectedEndOfRow => "too few fields".into(),
                DeserializeErrorKind::InvalidUtf8(e) => e.to_string(),
                DeserializeErrorKind::ParseBool(e) => e.to_string(),
                DeserializeErrorKind::ParseInt(e) => e.to_string(),
                DeserializeErrorKind::ParseFloat(e) => e.to_string(),
            };
            match err.field() {
                Some(i) => format!("field {} ({}): {what}", i + 1, column_name(i)),
                None => what,
            }
        }
        ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        ErrorKind::Utf8 { err, .. } => format!("not UTF-8 text ({err})"),
        _ => e.to_string(),
    }
}

/// The name of column `i` of a results CSV of this schema, or `?`.
fn column_name(i: u64) -> &'static str {
    CSV_COLUMNS.get(i as usize).copied().unwrap_or("?")
}

/// Medians, extremes and spreads are finite and non-negative in every row
/// the tool writes; anything else would print as NaN or stall the chart.
fn bad_number(r: &ResultRow) -> Option<String> {
    [
        ("value", r.value),
        ("min", r.min),
        ("max", r.max),
        ("cv_pct", r.cv_pct),
    ]
    .into_iter()
    .find(|(_, v)| !v.is_finite() || *v < 0.0)
    .map(|(name, v)| format!("{name} is {v}, not a finite non-negative number"))
}
