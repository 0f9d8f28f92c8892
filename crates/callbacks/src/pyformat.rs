//! Python's number formatting (`format(x, spec)` and `repr(x)`), so that file names, CSV cells and messages come
//! out exactly as Keras writes them.
//!
//! Supported: the format-spec mini-language `[[fill]align][sign][#][0][width][,|_][.precision][type]` with the
//! types `d b o x X` (integers) and `e E f F g G %` or none (both). Python's `repr(float)` is [`repr_f64`].
//!
//! Width and precision are at most [`MAX_WIDTH`] and [`MAX_PRECISION`] (255), a bound Python does not have:
//! nothing formatted here may be longer than a file name (255 bytes on the common file systems), and an unbounded
//! width (`{epoch:99999999999d}`) would allocate as many bytes, an unbounded precision overflow Rust's formatter.
//!
//! ```
//! use rkeras_callbacks::pyformat::{FormatSpec, repr_f64};
//! let spec = FormatSpec::parse(".2f").unwrap();
//! assert_eq!(spec.format_float(0.4321).unwrap(), "0.43");
//! assert_eq!(FormatSpec::parse("02d").unwrap().format_int(5).unwrap(), "05");
//! assert_eq!(FormatSpec::parse(".4e").unwrap().format_float(1e-5).unwrap(), "1.0000e-05");
//! assert_eq!(repr_f64(1e-5), "1e-05");
//! assert_eq!(repr_f64(2.0), "2.0");
//! assert!(FormatSpec::parse(".70000f").is_err());
//! ```

/// A parsed Python format spec (the part after `:` in `{val_loss:.2f}`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FormatSpec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    alternate: bool,
    zero: bool,
    width: Option<usize>,
    grouping: Option<char>,
    precision: Option<usize>,
    kind: Option<char>,
}

/// The largest width accepted (`{epoch:255d}`): the longest file name most file systems accept, in bytes.
pub const MAX_WIDTH: usize = 255;
/// The largest precision accepted (`{loss:.255f}`), for the same reason.
pub const MAX_PRECISION: usize = 255;

const INT_KINDS: &str = "dboxX";
const FLOAT_KINDS: &str = "eEfFgG%";

impl FormatSpec {
    /// Parses a spec; the error says what Python would reject.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let chars: Vec<char> = spec.chars().collect();
        let mut out = FormatSpec::default();
        let mut i = 0;
        let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
        if chars.len() >= 2 && is_align(chars[1]) {
            out.fill = Some(chars[0]);
            out.align = Some(chars[1]);
            i = 2;
        } else if let Some(&c) = chars.first().filter(|c| is_align(**c)) {
            out.align = Some(c);
            i = 1;
        }
        if let Some(&c) = chars.get(i).filter(|c| matches!(**c, '+' | '-' | ' ')) {
            out.sign = Some(c);
            i += 1;
        }
        if chars.get(i) == Some(&'#') {
            out.alternate = true;
            i += 1;
        }
        if chars.get(i) == Some(&'0') {
            out.zero = true;
            i += 1;
        }
        let (width, next) = read_number(&chars, i);
        if width.is_some_and(|w| w > MAX_WIDTH) {
            let digits: String = chars[i..next].iter().collect();
            return Err(format!(
                "format spec '{spec}': width {digits} exceeds the limit of {MAX_WIDTH}"
            ));
        }
        out.width = width;
        i = next;
        if let Some(&c) = chars.get(i).filter(|c| matches!(**c, ',' | '_')) {
            out.grouping = Some(c);
            i += 1;
        }
        if chars.get(i) == Some(&'.') {
            let (precision, next) = read_number(&chars, i + 1);
            match precision {
                None => return Err(format!("format spec '{spec}': missing precision after '.'")),
                Some(p) if p > MAX_PRECISION => {
                    let digits: String = chars[i + 1..next].iter().collect();
                    return Err(format!(
                        "format spec '{spec}': precision {digits} exceeds the limit of {MAX_PRECISION}"
                    ));
                }
                Some(_) => {}
            }
            out.precision = precision;
            i = next;
        }
        if let Some(&c) = chars.get(i) {
            if !INT_KINDS.contains(c) && !FLOAT_KINDS.contains(c) {
                return Err(format!("format spec '{spec}': unknown format code '{c}'"));
            }
            out.kind = Some(c);
            i += 1;
        }
        if i != chars.len() {
            return Err(format!("format spec '{spec}': invalid format specifier"));
        }
        if out.precision.is_some() && out.kind.is_some_and(|k| INT_KINDS.contains(k)) {
            return Err(format!(
                "format spec '{spec}': precision not allowed in integer format specifier"
            ));
        }
        Ok(out)
    }

    /// Whether the spec can only format integers (`d`, `x`, …), as Python rejects `{loss:d}` for a float.
    pub fn is_integer_only(&self) -> bool {
        self.kind.is_some_and(|k| INT_KINDS.contains(k))
    }

    /// Formats an integer as `format(value, spec)` does.
    pub fn format_int(&self, value: i64) -> Result<String, String> {
        let kind = self.kind.unwrap_or('d');
        if FLOAT_KINDS.contains(kind) {
            return self.format_float(value as f64);
        }
        let magnitude = value.unsigned_abs();
        let mut body = match kind {
            'b' => format!("{magnitude:b}"),
            'o' => format!("{magnitude:o}"),
            'x' => format!("{magnitude:x}"),
            'X' => format!("{magnitude:X}"),
            _ => magnitude.to_string(),
        };
        if let Some(sep) = self.grouping {
            body = group_digits(&body, sep);
        }
        if self.alternate {
            let prefix = match kind {
                'b' => "0b",
                'o' => "0o",
                'x' => "0x",
                'X' => "0X",
                _ => "",
            };
            body = format!("{prefix}{body}");
        }
        Ok(self.pad(value < 0, body))
    }

    /// Formats a float as `format(value, spec)` does; an integer-only code (`d`) is an error, as in Python.
    pub fn format_float(&self, value: f64) -> Result<String, String> {
        if self.is_integer_only() {
            let kind = self.kind.unwrap_or('d');
            return Err(format!(
                "unknown format code '{kind}' for a float value ({value})"
            ));
        }
        let negative = value.is_sign_negative() && !value.is_nan();
        let magnitude = value.abs();
        let upper = self.kind.is_some_and(|k| k.is_ascii_uppercase());
        let mut body = if !magnitude.is_finite() {
            let word = if value.is_nan() { "nan" } else { "inf" };
            if upper {
                word.to_uppercase()
            } else {
                word.to_string()
            }
        } else {
            match (self.kind, self.precision) {
                (Some('f' | 'F'), p) => fixed(magnitude, p.unwrap_or(6), self.alternate),
                (Some('e' | 'E'), p) => exponent(magnitude, p.unwrap_or(6), upper, self.alternate),
                (Some('%'), p) => format!(
                    "{}%",
                    fixed(magnitude * 100.0, p.unwrap_or(6), self.alternate)
                ),
                (Some(_), p) => general(magnitude, p.unwrap_or(6), upper, self.alternate, false),
                (None, Some(p)) => general(magnitude, p, false, self.alternate, true),
                (None, None) => repr_f64(magnitude),
            }
        };
        if let Some(sep) = self.grouping {
            body = group_float(&body, sep);
        }
        Ok(self.pad(negative, body))
    }

    /// Applies sign, fill, alignment and width to an unsigned body.
    fn pad(&self, negative: bool, body: String) -> String {
        let sign = match (negative, self.sign) {
            (true, _) => "-",
            (false, Some('+')) => "+",
            (false, Some(' ')) => " ",
            _ => "",
        };
        let width = self.width.unwrap_or(0);
        let len = sign.chars().count() + body.chars().count();
        if len >= width {
            return format!("{sign}{body}");
        }
        let missing = width - len;
        let (fill, align) = match (self.fill, self.align, self.zero) {
            (Some(f), Some(a), _) => (f, a),
            (None, Some(a), true) => ('0', a),
            (None, Some(a), false) => (' ', a),
            (_, None, true) => ('0', '='),
            (_, None, false) => (' ', '>'),
        };
        let run = |n: usize| fill.to_string().repeat(n);
        match align {
            '<' => format!("{sign}{body}{}", run(missing)),
            '^' => format!(
                "{}{sign}{body}{}",
                run(missing / 2),
                run(missing - missing / 2)
            ),
            '=' => format!("{sign}{}{body}", run(missing)),
            _ => format!("{}{sign}{body}", run(missing)),
        }
    }
}

/// Reads a run of decimal digits starting at `start`.
fn read_number(chars: &[char], start: usize) -> (Option<usize>, usize) {
    let mut end = start;
    let mut value: Option<usize> = None;
    while let Some(d) = chars.get(end).and_then(|c| c.to_digit(10)) {
        value = Some(
            value
                .unwrap_or(0)
                .saturating_mul(10)
                .saturating_add(d as usize),
        );
        end += 1;
    }
    (value, end)
}

/// `%.{precision}f` of a non-negative finite value (Rust and Python both round half to even on the exact value).
fn fixed(value: f64, precision: usize, alternate: bool) -> String {
    let s = format!("{value:.precision$}");
    if alternate && precision == 0 {
        format!("{s}.")
    } else {
        s
    }
}

/// Splits Rust's `{:e}` output into mantissa digits (without the dot) and the decimal exponent.
fn split_exponent(s: &str) -> (String, i32) {
    let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
    (mantissa.replace('.', ""), exp.parse().unwrap_or(0))
}

/// Python's exponent suffix: `e-05`, `e+16`.
fn exponent_suffix(exp: i32, upper: bool) -> String {
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{e}{sign}{:02}", exp.unsigned_abs())
}

/// `%.{precision}e` of a non-negative finite value.
fn exponent(value: f64, precision: usize, upper: bool, alternate: bool) -> String {
    let (digits, exp) = split_exponent(&format!("{value:.precision$e}"));
    let (head, tail) = digits.split_at(1.min(digits.len()));
    let dot = if !tail.is_empty() || alternate {
        "."
    } else {
        ""
    };
    format!("{head}{dot}{tail}{}", exponent_suffix(exp, upper))
}

/// Places the decimal point in `digits` (d.ddd × 10^exp) for fixed notation.
fn place_point(digits: &str, exp: i32) -> (String, String) {
    if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            (
                format!("{digits}{}", "0".repeat(int_len - digits.len())),
                String::new(),
            )
        } else {
            let (i, f) = digits.split_at(int_len);
            (i.to_string(), f.to_string())
        }
    } else {
        (
            "0".to_string(),
            format!("{}{digits}", "0".repeat((-exp - 1) as usize)),
        )
    }
}

/// `%g` (and the no-type form with a precision, `add_dot_0`), of a non-negative finite value.
fn general(value: f64, precision: usize, upper: bool, alternate: bool, add_dot_0: bool) -> String {
    let p = precision.max(1);
    let (digits, exp) = split_exponent(&format!("{value:.prec$e}", prec = p - 1));
    let limit = if add_dot_0 { p as i32 - 1 } else { p as i32 };
    let use_exp = exp < -4 || exp >= limit;
    let strip = |s: &str| {
        if alternate {
            s.to_string()
        } else {
            s.trim_end_matches('0').to_string()
        }
    };
    if use_exp {
        let (head, tail) = digits.split_at(1.min(digits.len()));
        let tail = strip(tail);
        let dot = if !tail.is_empty() || alternate {
            "."
        } else {
            ""
        };
        format!("{head}{dot}{tail}{}", exponent_suffix(exp, upper))
    } else {
        let (int_part, frac) = place_point(&digits, exp);
        let frac = strip(&frac);
        if !frac.is_empty() {
            format!("{int_part}.{frac}")
        } else if add_dot_0 {
            format!("{int_part}.0")
        } else if alternate {
            format!("{int_part}.")
        } else {
            int_part
        }
    }
}

/// Python's `repr(x)` for a float: the shortest string that reads back to `x`, `1e-05`/`1e+16` outside
/// `1e-4 ≤ |x| < 1e16`, a trailing `.0` on integral values, `inf`/`nan`.
pub fn repr_f64(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_string();
    }
    if value.is_infinite() {
        return if value < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    let sign = if value.is_sign_negative() { "-" } else { "" };
    let (digits, exp) = split_exponent(&format!("{:e}", value.abs()));
    if !(-4..16).contains(&exp) {
        let (head, tail) = digits.split_at(1.min(digits.len()));
        let dot = if tail.is_empty() { "" } else { "." };
        return format!("{sign}{head}{dot}{tail}{}", exponent_suffix(exp, false));
    }
    let (int_part, frac) = place_point(&digits, exp);
    let frac = if frac.is_empty() {
        "0".to_string()
    } else {
        frac
    };
    format!("{sign}{int_part}.{frac}")
}

/// Inserts a thousands separator into a run of digits.
fn group_digits(digits: &str, sep: char) -> String {
    let n = digits.len();
    let mut out = String::with_capacity(n + n / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Groups the integer part of a formatted float (left alone when it is in exponent form or not numeric).
fn group_float(body: &str, sep: char) -> String {
    let end = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    if end == 0 || body[end..].starts_with(['e', 'E']) {
        return body.to_string();
    }
    format!("{}{}", group_digits(&body[..end], sep), &body[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(spec: &str, v: f64) -> String {
        FormatSpec::parse(spec).unwrap().format_float(v).unwrap()
    }
    fn i(spec: &str, v: i64) -> String {
        FormatSpec::parse(spec).unwrap().format_int(v).unwrap()
    }

    #[test]
    fn floats_match_python() {
        // Expected strings are what CPython 3.11 prints for format(v, spec).
        let rows: &[(&str, f64, &str)] = &[
            (".2f", 0.4321, "0.43"),
            (".2f", 0.125, "0.12"),
            (".2f", 0.375, "0.38"),
            (".0f", 2.5, "2"),
            (".0f", 0.5, "0"),
            (".4f", 0.1234, "0.1234"),
            (".5f", f64::INFINITY, "inf"),
            (".5f", f64::NEG_INFINITY, "-inf"),
            (".2f", f64::NAN, "nan"),
            (".4e", 1e-5, "1.0000e-05"),
            (".4e", -0.000123456, "-1.2346e-04"),
            (".4e", 0.0, "0.0000e+00"),
            ("e", 123456.0, "1.234560e+05"),
            (".2E", 1.5e20, "1.50E+20"),
            ("g", 0.0001, "0.0001"),
            ("g", 0.00001, "1e-05"),
            ("g", 123456.0, "123456"),
            ("g", 1234567.0, "1.23457e+06"),
            (".3g", 0.4321, "0.432"),
            (".3", 12.0, "12.0"),
            (".3", 123.0, "1.23e+02"),
            ("", 0.1, "0.1"),
            ("", 1.0, "1.0"),
            (".1%", 0.25, "25.0%"),
            ("08.3f", -1.5, "-001.500"),
            ("+.1f", 1.0, "+1.0"),
            ("*^9.1f", 1.0, "***1.0***"),
            ("<6.1f", 1.0, "1.0   "),
            (",.1f", 1234567.25, "1,234,567.2"),
        ];
        for (spec, v, want) in rows {
            assert_eq!(f(spec, *v), *want, "format({v}, '{spec}')");
        }
    }

    #[test]
    fn ints_match_python() {
        let rows: &[(&str, i64, &str)] = &[
            ("02d", 5, "05"),
            ("03d", 12, "012"),
            ("02d", 123, "123"),
            ("d", -7, "-7"),
            ("", 42, "42"),
            ("x", 255, "ff"),
            ("#x", 255, "0xff"),
            (",", 1234567, "1,234,567"),
            (".2f", 3, "3.00"),
            ("e", 5, "5.000000e+00"),
            (">4", 7, "   7"),
        ];
        for (spec, v, want) in rows {
            assert_eq!(i(spec, *v), *want, "format({v}, '{spec}')");
        }
    }

    #[test]
    fn repr_matches_python() {
        let rows: &[(f64, &str)] = &[
            (0.1, "0.1"),
            (1.0, "1.0"),
            (-2.0, "-2.0"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123.456, "123.456"),
            (0.0010000000474974513, "0.0010000000474974513"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (-0.0, "-0.0"),
        ];
        for (v, want) in rows {
            assert_eq!(repr_f64(*v), *want, "repr({v})");
        }
    }

    #[test]
    fn rejects_what_python_rejects() {
        assert!(FormatSpec::parse(".2q").is_err());
        assert!(FormatSpec::parse(".d").is_err());
        assert!(FormatSpec::parse(".2d").is_err());
        assert!(FormatSpec::parse("2d").unwrap().format_float(1.0).is_err());
    }

    #[test]
    fn width_and_precision_are_bounded() {
        // Before the bound, ".70000f" panicked in Rust's formatter and "99999999999d" allocated 100 GB.
        for (spec, want) in [
            (
                ".70000f",
                "format spec '.70000f': precision 70000 exceeds the limit of 255",
            ),
            (
                "99999999999d",
                "format spec '99999999999d': width 99999999999 exceeds the limit of 255",
            ),
            (
                "256",
                "format spec '256': width 256 exceeds the limit of 255",
            ),
            (
                ".256e",
                "format spec '.256e': precision 256 exceeds the limit of 255",
            ),
            (
                "099999999999999999999999.2f",
                "format spec '099999999999999999999999.2f': width 99999999999999999999999 exceeds the limit of 255",
            ),
        ] {
            assert_eq!(FormatSpec::parse(spec).unwrap_err(), want);
        }
        // At the limit, every value formats to at most width or its own length.
        let wide = FormatSpec::parse("255d")
            .unwrap()
            .format_int(i64::MIN)
            .unwrap();
        assert_eq!(wide.len(), 255);
        assert!(wide.ends_with("-9223372036854775808"));
        let precise = FormatSpec::parse(".255f").unwrap();
        assert_eq!(
            precise.format_float(0.5).unwrap(),
            format!("0.5{}", "0".repeat(254))
        );
        assert_eq!(precise.format_float(f64::MAX).unwrap().len(), 309 + 1 + 255);
        for spec in [".255e", ".255g", ".255%", "255.255", "x^255.255G"] {
            let spec = FormatSpec::parse(spec).unwrap();
            for v in [0.0, -1e-300, 1e300, f64::MAX, f64::MIN_POSITIVE, f64::NAN] {
                assert!(spec.format_float(v).is_ok(), "{spec:?} {v}");
            }
        }
    }
}
