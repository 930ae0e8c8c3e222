//! Resident ID numbers as integers, and how to find IDs one typing error
//! apart without comparing all pairs.
//!
//! An 18-character ID (digits, `X` last) is read as a base-11 number, which
//! fits a `u64` exactly, so equal codes mean equal IDs. Two check-valid IDs
//! are never one substitution or one adjacent transposition apart (the
//! GB 11643 weights are non-zero and pairwise different modulo 11), so the
//! blocking rule lists the [`neighbours`] of the few IDs whose check fails
//! (about 190 codes each, by base-11 arithmetic) and merges them with the
//! sorted distinct IDs. The substitution and transposition keys are the
//! alternative for when every ID is to be paired (each pass sorts one key per
//! distinct ID); [`pack`] gives the nibble form the comparisons use.

/// Length of a resident ID.
pub const ID_LEN: usize = 18;

/// No ID in a slot of [`RowIdCodes::packed`].
pub const NO_ID: u128 = u128::MAX;

/// Every row's IDs (as [`crate::id_codes`] lists them: its own ID number,
/// the ID inside its student number, the ID of its certificate number),
/// read once for the whole match stage: blocking, the comparisons and the
/// deterministic rules all need them, and reading the texts is the costly
/// part.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowIdCodes {
    /// Per row, up to three IDs packed ([`pack`]), [`NO_ID`] where absent.
    pub packed: Vec<[u128; 3]>,
    /// Per row, whether its own `id_number` is an ID (then it is slot 0).
    pub own: Vec<bool>,
}

impl RowIdCodes {
    /// Reads them from the columns of `rows` rows, in parallel.
    pub fn new(cols: &crate::KeyColumns<'_>, rows: usize) -> Self {
        use rayon::prelude::*;
        let (packed, own) = (0..rows)
            .into_par_iter()
            .map(|i| {
                let (v, n) = cols.ids(i);
                let mut out = [NO_ID; 3];
                for (o, t) in out.iter_mut().zip(v[..n].iter().flatten()) {
                    if let Some(d) = digits(t) {
                        *o = pack(&d);
                    }
                }
                (out, cols.own_id_is_id(i))
            })
            .unzip();
        RowIdCodes { packed, own }
    }

    /// Row `i`'s own ID code ([`code`]), `u64::MAX` when it has none.
    pub fn own_code(&self, i: usize) -> u64 {
        if self.own[i] {
            code(&unpack(self.packed[i][0]))
        } else {
            u64::MAX
        }
    }
}

fn digit(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'X' | b'x' => Some(10),
        _ => None,
    }
}

/// The base-11 digits of an 18-character ID, or `None` when it is not one.
pub fn digits(text: &str) -> Option<[u8; ID_LEN]> {
    let b = text.as_bytes();
    if b.len() != ID_LEN {
        return None;
    }
    let mut out = [0u8; ID_LEN];
    for (o, &c) in out.iter_mut().zip(b) {
        *o = digit(c)? as u8;
    }
    Some(out)
}

/// The exact integer code of an ID's digits.
pub fn code(d: &[u8; ID_LEN]) -> u64 {
    d.iter().fold(0u64, |acc, &x| acc * 11 + u64::from(x))
}

/// The ID's digits back from its code.
pub fn decode(mut c: u64) -> [u8; ID_LEN] {
    let mut out = [0u8; ID_LEN];
    for o in out.iter_mut().rev() {
        *o = (c % 11) as u8;
        c /= 11;
    }
    out
}

/// The ID text of a code (digits, `X` for 10).
pub fn text(code: u64) -> String {
    decode(code)
        .iter()
        .map(|&k| if k == 10 { 'X' } else { char::from(b'0' + k) })
        .collect()
}

/// The code of every character but the one at `pos`.
pub fn substitution_key(d: &[u8; ID_LEN], pos: usize) -> u64 {
    d.iter()
        .enumerate()
        .filter(|&(i, _)| i != pos)
        .fold(0u64, |acc, (_, &x)| acc * 11 + u64::from(x))
}

/// The code of the ID with the characters at `pos` and `pos + 1` in order.
pub fn transposition_key(d: &[u8; ID_LEN], pos: usize) -> u64 {
    let mut s = *d;
    if s[pos] > s[pos + 1] {
        s.swap(pos, pos + 1);
    }
    code(&s)
}

/// The digits packed four bits each into a `u128`, first digit highest:
/// comparing two packed IDs for typing errors needs no division.
pub fn pack(d: &[u8; ID_LEN]) -> u128 {
    d.iter().fold(0u128, |acc, &x| (acc << 4) | u128::from(x))
}

/// The digits of a packed ID.
pub fn unpack(p: u128) -> [u8; ID_LEN] {
    let mut out = [0u8; ID_LEN];
    for (k, o) in out.iter_mut().enumerate() {
        *o = ((p >> (4 * (ID_LEN - 1 - k))) & 0xf) as u8;
    }
    out
}

/// Classifies the difference between two packed IDs ([`pack`]).
pub fn edit_packed(a: u128, b: u128) -> IdEdit {
    let x = a ^ b;
    if x == 0 {
        return IdEdit::Same;
    }
    // One bit per differing nibble.
    let mut nz = x | (x >> 1);
    nz |= nz >> 2;
    nz &= 0x1111_1111_1111_1111_1111_1111_1111_1111;
    match nz.count_ones() {
        1 => IdEdit::Substitution,
        2 => {
            let lo = nz.trailing_zeros();
            let hi = 127 - nz.leading_zeros();
            let nib = |v: u128, s: u32| ((v >> s) & 0xf) as u8;
            if hi == lo + 4 && nib(a, lo) == nib(b, hi) && nib(a, hi) == nib(b, lo) {
                IdEdit::Transposition
            } else {
                IdEdit::Other
            }
        }
        _ => IdEdit::Other,
    }
}

/// Whether the check character (the last digit, 10 for `X`) agrees with the first 17.
pub fn check_ok(d: &[u8; ID_LEN]) -> bool {
    let mut first17 = [0u8; 17];
    for (o, &x) in first17.iter_mut().zip(d.iter()) {
        if x > 9 {
            return false;
        }
        *o = b'0' + x;
    }
    let c = aidlink_vocab::check_char(&first17);
    let want = if c == b'X' { 10 } else { c - b'0' };
    d[ID_LEN - 1] == want
}

/// The codes of every ID one substitution (a digit, or `X` last) or one
/// adjacent transposition away from `code`, computed in base 11 directly.
pub fn neighbours(code: u64) -> Vec<u64> {
    let d = decode(code);
    let mut place = [1u64; ID_LEN];
    for k in (0..ID_LEN - 1).rev() {
        place[k] = place[k + 1] * 11;
    }
    let mut out = Vec::with_capacity(ID_LEN * 10 + ID_LEN);
    for pos in 0..ID_LEN {
        let top = if pos == ID_LEN - 1 { 10 } else { 9 };
        let base = code - u64::from(d[pos]) * place[pos];
        for v in 0..=top {
            if v != d[pos] {
                out.push(base + u64::from(v) * place[pos]);
            }
        }
    }
    for pos in 0..ID_LEN - 1 {
        if d[pos] != d[pos + 1] {
            let base =
                code - u64::from(d[pos]) * place[pos] - u64::from(d[pos + 1]) * place[pos + 1];
            out.push(
                base + u64::from(d[pos + 1]) * place[pos] + u64::from(d[pos]) * place[pos + 1],
            );
        }
    }
    out
}

/// How two IDs differ, as far as typing errors go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdEdit {
    /// Identical.
    Same,
    /// One character differs.
    Substitution,
    /// Two adjacent characters are swapped.
    Transposition,
    /// Anything else.
    Other,
}

/// Classifies the difference between two IDs' digits.
pub fn edit(a: &[u8; ID_LEN], b: &[u8; ID_LEN]) -> IdEdit {
    let mut first = None;
    let mut count = 0;
    for i in 0..ID_LEN {
        if a[i] != b[i] {
            count += 1;
            if count > 2 {
                return IdEdit::Other;
            }
            if first.is_none() {
                first = Some(i);
            }
        }
    }
    match (count, first) {
        (0, _) => IdEdit::Same,
        (1, _) => IdEdit::Substitution,
        (2, Some(i)) if i + 1 < ID_LEN && a[i] == b[i + 1] && a[i + 1] == b[i] => {
            IdEdit::Transposition
        }
        _ => IdEdit::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "11010519491231002X";

    #[test]
    fn code_round_trips_and_reads_x() {
        let d = digits(A).unwrap();
        assert_eq!(d[17], 10);
        assert_eq!(decode(code(&d)), d);
        assert_eq!(digits("1234"), None);
        assert_eq!(digits("11010519491231002Y"), None);
    }

    #[test]
    fn neighbours_are_exactly_the_one_edit_ids() {
        let a = digits(A).unwrap();
        assert!(check_ok(&a));
        let ns = neighbours(code(&a));
        assert!(ns.iter().all(|&n| matches!(
            edit(&a, &decode(n)),
            IdEdit::Substitution | IdEdit::Transposition
        )));
        assert!(ns.contains(&code(&digits("11010519491231012X").unwrap())));
        assert!(ns.contains(&code(&digits("11010519491213002X").unwrap())));
        assert!(ns.contains(&code(&digits("110105194912310021").unwrap())));
        assert!(!check_ok(&digits("110105194912310021").unwrap()));
    }

    #[test]
    fn keys_meet_for_one_typing_error_only() {
        let a = digits(A).unwrap();
        let sub = digits("11010519491231012X").unwrap();
        let swp = digits("11010519491213002X").unwrap();
        assert_eq!(substitution_key(&a, 15), substitution_key(&sub, 15));
        assert_ne!(substitution_key(&a, 14), substitution_key(&sub, 14));
        assert_eq!(transposition_key(&a, 12), transposition_key(&swp, 12));
        assert_eq!(edit(&a, &sub), IdEdit::Substitution);
        assert_eq!(edit(&a, &swp), IdEdit::Transposition);
        assert_eq!(edit(&a, &a), IdEdit::Same);
        let two = digits("11010519491231112X").unwrap();
        assert_eq!(edit(&a, &two), IdEdit::Other);
        assert_eq!(unpack(pack(&a)), a);
        for other in [
            &a,
            &sub,
            &swp,
            &two,
            &digits("11010519491231002X").unwrap(),
            &digits("01010519491231002X").unwrap(),
            &digits("11010519491231020X").unwrap(),
            &digits("1101051949123100X2").unwrap(),
        ] {
            assert_eq!(edit_packed(pack(&a), pack(other)), edit(&a, other));
        }
    }
}
