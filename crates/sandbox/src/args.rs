//! Command-line flags of the sandbox, parsed by hand to keep the binary's dependencies few.

use std::path::PathBuf;

use crate::StackError;

/// Shown with `--help` and after a bad flag.
pub const USAGE: &str =
    "usage: flash-sandbox [--port N] [--mint-port N] [--relay-port N] [--flash-port N] [--dist DIR]
                     [--data-dir DIR] [--quote-delay SECS] [--control]

  --port N          the app (PWA) port on 127.0.0.1 (default 8080; 0 = any free port)
  --mint-port N     the Cashu mint port (default 3338; 0 = any free port)
  --relay-port N    the NOSTR relay port (default 7777; 0 = any free port)
  --flash-port N    the Flash account API (GraphQL) port (default 4002; 0 = any free port)
  --dist DIR        the built PWA to serve (default ./dist)
  --data-dir DIR    where the mint keeps its state across restarts (default: a new temp dir)
  --quote-delay S   seconds before a mint quote turns PAID (default 1)
  --control         enable the /__control test API (fault injection; never in production)";

/// The sandbox's settings.
#[derive(Debug, Clone)]
pub struct Args {
    /// App port.
    pub port: u16,
    /// Mint port.
    pub mint_port: u16,
    /// Relay port.
    pub relay_port: u16,
    /// Flash API port.
    pub flash_port: u16,
    /// Built PWA directory.
    pub dist: PathBuf,
    /// Mint state directory; `None` means a fresh temporary one.
    pub data_dir: Option<PathBuf>,
    /// Seconds before the fake Lightning backend reports an invoice paid.
    pub quote_delay_secs: u64,
    /// Whether the test-control API is mounted.
    pub control: bool,
}

impl Args {
    /// Parses flags; `Ok(None)` means help was asked for.
    pub fn parse(mut it: impl Iterator<Item = String>) -> Result<Option<Self>, StackError> {
        let mut args = Args {
            port: 8080,
            mint_port: 3338,
            relay_port: 7777,
            flash_port: 4002,
            dist: PathBuf::from("dist"),
            data_dir: None,
            quote_delay_secs: 1,
            control: false,
        };
        while let Some(flag) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .ok_or_else(|| StackError::Args(format!("{name} needs a value")))
            };
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "--port" => args.port = port(&value("--port")?, "--port")?,
                "--mint-port" => args.mint_port = port(&value("--mint-port")?, "--mint-port")?,
                "--relay-port" => args.relay_port = port(&value("--relay-port")?, "--relay-port")?,
                "--flash-port" => args.flash_port = port(&value("--flash-port")?, "--flash-port")?,
                "--dist" => args.dist = PathBuf::from(value("--dist")?),
                "--data-dir" => args.data_dir = Some(PathBuf::from(value("--data-dir")?)),
                "--quote-delay" => {
                    let v = value("--quote-delay")?;
                    args.quote_delay_secs = v.parse().map_err(|_| {
                        StackError::Args(format!("--quote-delay wants whole seconds, not {v:?}"))
                    })?
                }
                "--control" => args.control = true,
                other => return Err(StackError::Args(format!("unknown flag {other:?}"))),
            }
        }
        Ok(Some(args))
    }

    /// The data directory to use: the one given, or a new unique one under the temp dir.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            std::env::temp_dir().join(format!("flash-sandbox-{}-{nanos}", std::process::id()))
        })
    }
}

fn port(v: &str, flag: &str) -> Result<u16, StackError> {
    v.parse()
        .map_err(|_| StackError::Args(format!("{flag} wants a port number 0-65535, not {v:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<Option<Args>, StackError> {
        Args::parse(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_and_flags() {
        let a = parse(&[]).unwrap().unwrap();
        assert_eq!((a.port, a.mint_port, a.relay_port), (8080, 3338, 7777));
        assert!(!a.control);
        let a = parse(&["--port", "0", "--control", "--quote-delay", "3"])
            .unwrap()
            .unwrap();
        assert_eq!(a.port, 0);
        assert!(a.control);
        assert_eq!(a.quote_delay_secs, 3);
    }

    #[test]
    fn bad_flags_say_what_is_wrong() {
        let e = parse(&["--port", "http"]).unwrap_err().to_string();
        assert!(e.contains("--port wants a port number"), "{e}");
        let e = parse(&["--frobnicate"]).unwrap_err().to_string();
        assert!(e.contains("unknown flag"), "{e}");
        assert!(parse(&["--help"]).unwrap().is_none());
    }
}
