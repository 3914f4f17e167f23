//! Text helpers: folding names for search, making slugs, checking country codes.
//!
//! Folding happens here rather than in SQL (`unaccent`) because a managed database may
//! not allow extensions; the folded forms are stored beside the originals.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Letters that do not decompose into a base letter and a mark but that people still
/// type without their accent (`Łódź` is searched as `lodz`, `Straße` as `strasse`).
fn fold_special(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' | 'ẞ' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ø' | 'Ø' => "o",
        'ł' | 'Ł' => "l",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'þ' | 'Þ' => "th",
        'ı' => "i",
        _ => return None,
    })
}

/// Lower case without accents, white space collapsed to single spaces: the form names
/// and cities are compared in. Letters of scripts without accents (Cyrillic, CJK) stay.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        match fold_special(c) {
            Some(replacement) => out.push_str(replacement),
            None => out.extend(c.to_lowercase()),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Longest slug made from a name; explicit slugs may be up to [`SLUG_MAX`].
const SLUG_FROM_NAME_MAX: usize = 80;
pub const SLUG_MAX: usize = 100;

/// A slug made from a name: lower-case ASCII letters and digits joined by single `-`.
/// A name with no such letters at all (a name in Cyrillic only) gives `gym`.
pub fn slugify(name: &str) -> String {
    let folded = fold(name);
    let mut slug = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    if slug.len() > SLUG_FROM_NAME_MAX {
        slug.truncate(SLUG_FROM_NAME_MAX);
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        "gym".to_owned()
    } else {
        slug.to_owned()
    }
}

/// Whether `slug` has the shape [`slugify`] produces.
pub fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= SLUG_MAX
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The officially assigned ISO 3166-1 alpha-2 codes (249), alphabetical.
const COUNTRY_CODES: &str = "\
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ \
EC EE EG EH ER ES ET \
FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY \
HK HM HN HR HT HU \
ID IE IL IM IN IO IQ IR IS IT \
JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ \
LA LB LC LI LK LR LS LT LU LV LY \
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ \
OM \
PA PE PF PG PH PK PL PM PN PR PS PT PW PY \
QA \
RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ \
UA UG UM US UY UZ \
VA VC VE VG VI VN VU \
WF WS \
YE YT \
ZA ZM ZW";

/// Whether `code` is an assigned ISO 3166-1 alpha-2 code, written in upper case.
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2 && COUNTRY_CODES.split(' ').any(|c| c == code)
}

/// Escapes `%`, `_` and `\` so user text matches literally inside a `LIKE` pattern.
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_accents_and_case() {
        assert_eq!(fold("  Kletterzentrum  MÜNCHEN "), "kletterzentrum munchen");
        assert_eq!(fold("Ǻrête Straße Łódź"), "arete strasse lodz");
        assert_eq!(fold("Café"), fold("CAFE\u{301}"));
    }

    #[test]
    fn slugs_are_lowercase_ascii_joined_by_dashes() {
        assert_eq!(
            slugify("Boulderwelt München-Ost!"),
            "boulderwelt-munchen-ost"
        );
        assert_eq!(slugify("  Crème de la   Crème  "), "creme-de-la-creme");
        assert_eq!(slugify("Скалодром"), "gym");
        assert!(slugify(&"a".repeat(300)).len() <= 80);
        assert!(is_slug(&slugify("--Épique / Salle 2--")));
    }

    #[test]
    fn slug_shape_is_checked() {
        assert!(is_slug("the-arch-2"));
        assert!(!is_slug("The-Arch"));
        assert!(!is_slug("the--arch"));
        assert!(!is_slug("-arch"));
        assert!(!is_slug(""));
    }

    #[test]
    fn the_country_list_holds_every_assigned_code_once() {
        let codes: Vec<&str> = COUNTRY_CODES.split(' ').collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();

        assert_eq!(codes.len(), 249);
        assert_eq!(sorted, codes);
        assert!(is_country_code("CH"));
        assert!(!is_country_code("ch"));
        assert!(!is_country_code("XX"));
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape(r"50%_a\b"), r"50\%\_a\\b");
    }
}
