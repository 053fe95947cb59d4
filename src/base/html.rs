//! Markup that is escaped by construction: an [`Html`] value is built only from text written in
//! this code and from outside text that went through the escaper, so a page cannot forget to
//! escape a workspace name, a client name or an error message.
//!
//! [`html!`](crate::html!) is `format!` for markup: every argument is escaped unless it already
//! is [`Html`], and a compile-time check refuses a placeholder that would capture a variable
//! from the surrounding scope (which `format!` would print unescaped) — only positional
//! placeholders, named arguments and `ALL_CAPS` constants (paths written in this code) are
//! allowed.
//!
//! Why not a template crate (maud, askama): the pages are few and small, this is ~100 lines with
//! no dependency and no bundle cost, and it gives the same guarantee — outside text reaches a
//! page only through [`escape_into`].

use std::borrow::Cow;
use std::fmt;

/// Markup safe to send: literals of this code, and escaped outside text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Html(Cow<'static, str>);

impl Html {
    /// Markup written in this code. Only `'static` text qualifies: outside input never is.
    pub const fn trusted(markup: &'static str) -> Self {
        Self(Cow::Borrowed(markup))
    }

    /// Outside text, escaped.
    pub fn text(text: &str) -> Self {
        let mut out = String::with_capacity(text.len());
        escape_into(&mut out, text);
        Self(Cow::Owned(out))
    }

    /// The markup, to send.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Used by [`html!`](crate::html!) only: the output of a checked template.
    #[doc(hidden)]
    pub fn from_template(rendered: String) -> Self {
        Self(Cow::Owned(rendered))
    }
}

impl FromIterator<Html> for Html {
    fn from_iter<I: IntoIterator<Item = Html>>(iter: I) -> Self {
        Self(Cow::Owned(iter.into_iter().map(|h| h.0).collect()))
    }
}

/// Escapes text for HTML element content and quoted or unquoted attribute values.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// How a value goes into markup.
pub trait Render {
    /// Appends the value, escaped unless it is markup already.
    fn render(&self, out: &mut String);
}

impl Render for Html {
    fn render(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

impl Render for str {
    fn render(&self, out: &mut String) {
        escape_into(out, self);
    }
}

impl Render for String {
    fn render(&self, out: &mut String) {
        escape_into(out, self);
    }
}

impl<T: Render + ?Sized> Render for &T {
    fn render(&self, out: &mut String) {
        (**self).render(out);
    }
}

macro_rules! render_number {
    ($($t:ty),*) => {$(
        impl Render for $t {
            fn render(&self, out: &mut String) {
                out.push_str(&self.to_string());
            }
        }
    )*};
}
render_number!(u16, u32, u64, usize, i64);

/// An argument of [`html!`](crate::html!), rendered through [`Render`].
#[derive(Debug)]
#[doc(hidden)]
pub struct Arg<'a, T: Render + ?Sized>(pub &'a T);

impl<T: Render + ?Sized> fmt::Display for Arg<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        self.0.render(&mut out);
        f.write_str(&out)
    }
}

/// Whether every placeholder of `template` is `{}`, a name in `names`, or an `ALL_CAPS`
/// constant: anything else would capture a local variable unescaped. Evaluated at compile time.
#[doc(hidden)]
pub const fn template_is_safe(template: &str, names: &[&str]) -> bool {
    let b = template.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' {
            if i + 1 < b.len() && b[i + 1] == b'{' {
                i += 2;
                continue;
            }
            let start = i + 1;
            let mut end = start;
            while end < b.len() && b[end] != b'}' && b[end] != b':' {
                end += 1;
            }
            if end > start && !is_constant(b, start, end) && !is_listed(b, start, end, names) {
                return false;
            }
            i = end;
        }
        i += 1;
    }
    true
}

const fn is_constant(b: &[u8], start: usize, end: usize) -> bool {
    let mut i = start;
    while i < end {
        if !(b[i].is_ascii_uppercase() || b[i].is_ascii_digit() || b[i] == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

const fn is_listed(b: &[u8], start: usize, end: usize, names: &[&str]) -> bool {
    let mut n = 0;
    while n < names.len() {
        let name = names[n].as_bytes();
        if name.len() == end - start {
            let mut k = 0;
            while k < name.len() && name[k] == b[start + k] {
                k += 1;
            }
            if k == name.len() {
                return true;
            }
        }
        n += 1;
    }
    false
}

/// `format!` for markup: `html!("<p>{}</p>", text)` or `html!("<p>{name}</p>", name = text)`.
/// Every argument is escaped unless it is [`Html`]; the template may name only its arguments
/// and `ALL_CAPS` constants (checked at compile time).
#[macro_export]
macro_rules! html {
    ($template:literal $(,)?) => {{
        const _: () = assert!($crate::base::html::template_is_safe($template, &[]), "html!: a placeholder captures a variable");
        $crate::base::html::Html::from_template(format!($template))
    }};
    ($template:literal, $($name:ident = $value:expr),+ $(,)?) => {{
        const _: () = assert!(
            $crate::base::html::template_is_safe($template, &[$(stringify!($name)),+]),
            "html!: a placeholder captures a variable"
        );
        $crate::base::html::Html::from_template(format!($template, $($name = $crate::base::html::Arg(&$value)),+))
    }};
    ($template:literal, $($value:expr),+ $(,)?) => {{
        const _: () = assert!($crate::base::html::template_is_safe($template, &[]), "html!: a placeholder captures a variable");
        $crate::base::html::Html::from_template(format!($template, $($crate::base::html::Arg(&$value)),+))
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_is_escaped_markup_is_not() {
        let inner = html!("<b>{}</b>", "<i>");
        let page = html!("<p>{inner} {name} {n}</p>", inner = inner, n = 42u64, name = "Ann & \"Bo\"");
        assert_eq!(page.as_str(), "<p><b>&lt;i&gt;</b> Ann &amp; &quot;Bo&quot; 42</p>");
        assert_eq!(html!("{} {}", "<", Html::trusted("<br>")).as_str(), "&lt; <br>");
        assert_eq!(Html::text("<img src=x onerror='a'>").as_str(), "&lt;img src=x onerror=&#39;a&#39;&gt;");
        let rows: Html = ["a", "<"].iter().map(|t| html!("<li>{}</li>", t)).collect();
        assert_eq!(rows.as_str(), "<li>a</li><li>&lt;</li>");
    }

    #[test]
    fn templates_that_would_capture_a_variable_are_refused() {
        assert!(template_is_safe("<p>{}</p>{{literal}}", &[]));
        assert!(template_is_safe("<a href=\"{CONNECT}\">{name}</a>", &["name"]));
        assert!(template_is_safe("{n:02}", &["n"]));
        assert!(!template_is_safe("<p>{title}</p>", &[]), "would print `title` unescaped");
        assert!(!template_is_safe("<p>{title}</p>", &["name"]));
        assert!(!template_is_safe("<p>{Title}</p>", &[]));
    }
}
