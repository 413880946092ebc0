//! Naming a card by its model: the words of a name that tell models apart,
//! so that "NVIDIA GeForce RTX 3070 (NVIDIA 550.54)" names the RTX 3070
//! and not the RTX 3070 Ti, and a memory size written into a card's name
//! ("RX 580 8GB") is kept apart from the model.

/// Words that name the vendor or the brand, never the model.
const BRAND_WORDS: [&str; 5] = ["amd", "nvidia", "radeon", "geforce", "asic"];

/// Words that make another model of the same number: "RTX 3070" must not
/// name an "RTX 3070 Ti".
const MODIFIERS: [&str; 7] = ["ti", "super", "xt", "xtx", "laptop", "mobile", "max"];

/// A card's model: its distinguishing words, and the memory its name
/// states, if it states one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelName {
    pub words: Vec<String>,
    /// Gigabytes, as the name writes them ("8GB", "12 GB").
    pub memory_gb: Option<u64>,
}

/// Lower-case words, a number and letters written together split apart
/// ("5700XT" is "5700 xt", "30HX" is "30 hx") so that every file's way of
/// writing a model reads the same.
pub fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut last_digit: Option<bool> = None;
    for c in name.chars().flat_map(char::to_lowercase) {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            last_digit = None;
            continue;
        }
        let digit = c.is_ascii_digit();
        if last_digit.is_some_and(|d| d != digit) && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
        last_digit = Some(digit);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The model a card's name names.
pub fn model(name: &str) -> ModelName {
    let mut w: Vec<String> = words(name)
        .into_iter()
        .filter(|w| !BRAND_WORDS.contains(&w.as_str()))
        .collect();
    let mut memory_gb = None;
    if let Some(i) = w.iter().position(|x| x == "gb") {
        if let Some(n) = i.checked_sub(1).and_then(|j| w[j].parse::<u64>().ok()) {
            memory_gb = Some(n);
            w.drain(i - 1..=i);
        }
    }
    ModelName {
        words: w,
        memory_gb,
    }
}

/// Whether `adapter` (a driver's name for a device) names `card`'s model:
/// its words appear together, in order, and no word that makes another
/// model follows them.
pub fn names(adapter: &str, card: &ModelName) -> bool {
    let a = words(adapter);
    let n = card.words.len();
    if n == 0 || a.len() < n {
        return false;
    }
    (0..=a.len() - n).any(|i| {
        a[i..i + n] == card.words[..]
            && a.get(i + n)
                .is_none_or(|next| !MODIFIERS.contains(&next.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_read_the_same_however_written() {
        assert_eq!(model("AMD Radeon RX 5700XT").words, ["rx", "5700", "xt"]);
        assert_eq!(model("RX 5700 XT").words, ["rx", "5700", "xt"]);
        let m = model("Nvidia GeForce RTX 3080 12 GB");
        assert_eq!(
            (m.words.clone(), m.memory_gb),
            (words("rtx 3080"), Some(12))
        );
        assert_eq!(model("RX 580 8GB").memory_gb, Some(8));
        assert_eq!(model("P104-100").words, ["p", "104", "100"]);
    }

    #[test]
    fn an_adapter_names_its_model_and_no_other() {
        let rx580 = "AMD Radeon RX 580 Series (RADV POLARIS10)";
        assert!(names(rx580, &model("AMD Radeon RX 580")));
        assert!(!names(rx580, &model("AMD Radeon RX 5800")));
        let ti = "NVIDIA GeForce RTX 3070 Ti";
        assert!(names(ti, &model("Nvidia GeForce RTX 3070 Ti")));
        assert!(!names(ti, &model("Nvidia GeForce RTX 3070")));
        assert!(!names("Radeon RX 7900 XTX", &model("AMD Radeon RX 7900XT")));
        assert!(!names(
            "NVIDIA GeForce RTX 3060 Laptop GPU",
            &model("RTX 3060")
        ));
        assert!(!names("llvmpipe (LLVM 17.0.6, 256 bits)", &model("x")));
    }
}
