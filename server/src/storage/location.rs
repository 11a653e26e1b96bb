//! Where the database is: an embedded SQLite file (a path, or a `sqlite:` URL) or a PostgreSQL
//! server (a `postgres://` or `postgresql://` URL) that several hubs may share.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// Reads the `database` setting; an error says what was expected.
    pub fn parse(setting: &str) -> Result<Self, String> {
        let setting = setting.trim();
        if setting.is_empty() {
            return Err("must not be empty".into());
        }
        if setting.starts_with("postgres://") || setting.starts_with("postgresql://") {
            return setting
                .parse::<sea_orm::sqlx::postgres::PgConnectOptions>()
                .map(|_| Self::Postgres(setting.to_owned()))
                .map_err(|err| format!("not a PostgreSQL URL ({err})"));
        }
        let path = match setting.strip_prefix("sqlite:") {
            Some(rest) => rest
                .trim_start_matches("//")
                .split('?')
                .next()
                .unwrap_or(""),
            None => setting,
        };
        if path.is_empty() {
            return Err(format!("`{setting}` names no SQLite file"));
        }
        if setting.contains("://") && !setting.starts_with("sqlite:") {
            return Err(format!(
                "expected a SQLite file's path, a sqlite: URL or a postgres:// URL, got `{}`",
                Redacted(setting)
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// The engine's name, as `/healthz` and the overview page report it.
    pub fn engine(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Self {
        Self::Sqlite(path)
    }
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Self {
        Self::Sqlite(path.to_path_buf())
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Self {
        Self::Sqlite(path.clone())
    }
}

impl From<&Location> for Location {
    fn from(location: &Location) -> Self {
        location.clone()
    }
}

/// The path, or the URL without its password: a location is safe to log.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => Redacted(url).fmt(f),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

/// A URL with the password between `user:` and `@` replaced by `***`.
struct Redacted<'a>(&'a str);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
            return f.write_str(url);
        };
        let authority_end = url[scheme_end..]
            .find(['/', '?'])
            .map_or(url.len(), |i| scheme_end + i);
        let authority = &url[scheme_end..authority_end];
        match authority.rfind('@') {
            Some(at) if authority[..at].contains(':') => {
                let user_end = scheme_end + authority[..at].find(':').unwrap_or(at);
                write!(f, "{}:***{}", &url[..user_end], &url[scheme_end + at..])
            }
            _ => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_sqlite_urls_are_files_and_postgres_urls_are_servers() {
        assert_eq!(
            Location::parse("./data/hookhub.db").unwrap(),
            Location::Sqlite("./data/hookhub.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:///var/lib/h.db?mode=rwc").unwrap(),
            Location::Sqlite("/var/lib/h.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:data.db").unwrap(),
            Location::Sqlite("data.db".into())
        );
        let url = "postgres://hub:secret@db.internal:5432/hookhub";
        assert_eq!(
            Location::parse(url).unwrap(),
            Location::Postgres(url.into())
        );
        assert_eq!(Location::parse(url).unwrap().engine(), "postgres");
    }

    #[test]
    fn bad_settings_say_what_was_expected() {
        assert!(Location::parse("  ").is_err());
        assert!(Location::parse("sqlite:").is_err());
        let mysql = Location::parse("mysql://root:pw@host/db").unwrap_err();
        assert!(mysql.contains("postgres://"), "{mysql}");
        assert!(!mysql.contains("pw"), "{mysql}");
        assert!(Location::parse("postgres://host:notaport/db").is_err());
    }

    #[test]
    fn a_location_shown_hides_its_password() {
        let shown = Location::parse("postgres://hub:s3cr%40t@db:5432/hookhub?sslmode=require")
            .unwrap()
            .to_string();
        assert_eq!(shown, "postgres://hub:***@db:5432/hookhub?sslmode=require");
        let plain = Location::parse("postgresql://hub@db/hookhub").unwrap();
        assert_eq!(plain.to_string(), "postgresql://hub@db/hookhub");
        assert_eq!(
            format!("{plain:?}"),
            "Location(postgresql://hub@db/hookhub)"
        );
    }
}
