//! Mail out over SMTP (lettre), when the operator configures it: the transport, the sender, and the public address that links in mail point to.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one mail may take to hand over to the SMTP server.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

/// Where mail goes out, from whom, and the site's public address for links.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `https://chat.example.org`, without a trailing slash. Links in mail are made from
    /// this, never from a request's `Host` (which a sender of requests chooses).
    public_url: String,
}

impl Mailer {
    /// From `smtp://host:port`, `smtps://user:pass@host` (TLS) or
    /// `smtp://user:pass@host?tls=required` (STARTTLS), as lettre reads them.
    pub fn new(smtp_url: &str, from: &str, public_url: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        let public_url = public_url.trim_end_matches('/').to_owned();
        anyhow::ensure!(
            public_url.starts_with("https://") || public_url.starts_with("http://"),
            "PARLEY_PUBLIC_URL must be the site's address, like https://chat.example.org"
        );
        Ok(Self {
            transport,
            from: from.parse()?,
            public_url,
        })
    }

    /// The full address of a path of the site.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// Sends a plain-text mail; failures are logged (the caller's answer does not wait).
    pub fn send(&self, to: &str, subject: &str, body: String) {
        let built = to.parse::<Mailbox>().map_err(anyhow::Error::from).and_then(|to| {
            Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(subject)
                .header(ContentType::TEXT_PLAIN)
                .body(body)
                .map_err(anyhow::Error::from)
        });
        let message = match built {
            Ok(message) => message,
            Err(e) => return tracing::warn!(error = %e, "a mail could not be written"),
        };
        let transport = self.transport.clone();
        tokio::spawn(async move {
            if let Err(e) = transport.send(message).await {
                tracing::warn!(error = %e, "a mail could not be sent");
            }
        });
    }
}

/// Checks an email address as typed: at most 254 characters, one that mail can go to.
pub fn parse_address(raw: &str) -> Result<String, String> {
    let address = raw.trim();
    if address.chars().count() > 254 {
        return Err("an email address has at most 254 characters".into());
    }
    address
        .parse::<lettre::Address>()
        .map(|a| format!("{}@{}", a.user(), a.domain().to_ascii_lowercase()))
        .map_err(|_| "that is not an email address".into())
}

#[cfg(test)]
mod tests {
    use super::parse_address;

    #[test]
    fn addresses_are_checked_and_their_domain_lowercased() {
        assert_eq!(parse_address(" Ada@Example.ORG "), Ok("Ada@example.org".into()));
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "a b@example.org",
            &format!("{}@x.org", "a".repeat(250)),
        ] {
            assert!(parse_address(bad).is_err(), "{bad:?}");
        }
    }
}
