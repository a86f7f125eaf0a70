//! The reader's colour theme: follow the system, or light or dark whatever the system says; kept in a cookie so the server paints the first frame in it.

/// The cookie that keeps the choice (a preference, not a secret: readable by the page).
pub const COOKIE: &str = "parley_theme";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// Light or dark as the system is (the default).
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    /// The cookie's value, and the page's `data-theme` (none for the system's).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::System => "System",
            Self::Light => "Light",
            Self::Dark => "Dark",
        }
    }

    /// What a stored value means; anything unknown follows the system.
    pub fn parse(value: &str) -> Self {
        match value.trim() {
            "light" => Self::Light,
            "dark" => Self::Dark,
            _ => Self::System,
        }
    }

    /// The choice kept in a `Cookie:` header (or `document.cookie`), if any.
    pub fn from_cookies(header: &str) -> Self {
        header
            .split(';')
            .filter_map(|pair| pair.split_once('='))
            .find(|(name, _)| name.trim() == COOKIE)
            .map(|(_, value)| Self::parse(value))
            .unwrap_or_default()
    }

    /// The `data-theme` the page's root element carries (the stylesheet reads it), if any.
    pub fn attribute(self) -> Option<&'static str> {
        (self != Self::System).then_some(self.as_str())
    }

    /// The cookie that keeps this choice for a year, on every page of the site.
    pub fn set_cookie(self) -> String {
        format!("{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_is_read_from_the_cookies() {
        assert_eq!(Theme::from_cookies("a=1; parley_theme=dark; b=2"), Theme::Dark);
        assert_eq!(Theme::from_cookies("parley_theme=light"), Theme::Light);
        assert_eq!(Theme::from_cookies("parley_theme=system"), Theme::System);
        assert_eq!(Theme::from_cookies(""), Theme::System);
        // Unknown or hostile values follow the system; other cookies are not read.
        assert_eq!(Theme::from_cookies("parley_theme=\"><script>"), Theme::System);
        assert_eq!(Theme::from_cookies("xparley_theme=dark"), Theme::System);
    }

    #[test]
    fn a_choice_survives_its_cookie() {
        for theme in Theme::ALL {
            let cookie = theme.set_cookie();
            let pair = cookie.split(';').next().unwrap_or_default();
            assert_eq!(Theme::from_cookies(pair), theme);
        }
    }

    #[test]
    fn only_a_fixed_choice_marks_the_page() {
        assert_eq!(Theme::System.attribute(), None);
        assert_eq!(Theme::Dark.attribute(), Some("dark"));
        assert_eq!(Theme::Light.attribute(), Some("light"));
    }
}
