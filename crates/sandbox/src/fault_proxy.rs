//! A fault-injecting HTTP proxy in front of the real mint, for the fault matrix: requests pass
//! through unchanged unless a rule for their path says otherwise — refused before the mint sees
//! them, answered by the mint but the answer lost, held until the test releases it, or answered
//! with something else (garbage, a wrong amount). Every connection is closed after one exchange
//! so each request meets the rules on its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// What to do with a matching request.
#[derive(Clone)]
pub enum Fault {
    /// Close the connection before the mint sees the request.
    Refuse,
    /// Tell `arrived` and never forward nor answer: the request is on its way when the test
    /// kills the operation (a tab closed before the mint heard anything).
    Stall(Arc<Notify>),
    /// Let the mint do it, then drop its answer (the client sees a broken connection).
    LoseAnswer,
    /// Let the mint answer, tell `arrived`, and hold the answer until `release` is notified.
    Hold {
        /// Notified once the mint has answered (the request is "in flight" for the client).
        arrived: Arc<Notify>,
        /// The test notifies this to let the answer through.
        release: Arc<Notify>,
    },
    /// Do not ask the mint; answer with this status and body.
    Answer(u16, String),
    /// Let the mint answer and pass its body through this change.
    Rewrite(Arc<dyn Fn(String) -> String + Send + Sync>),
}

struct Rule {
    path: String,
    fault: Fault,
    times: usize,
}

/// The proxy. Dropping it leaves the task running until the test ends.
#[derive(Clone)]
pub struct FaultProxy {
    /// The URL to give the wallet instead of the mint's.
    pub url: String,
    rules: Arc<Mutex<Vec<Rule>>>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl FaultProxy {
    /// A proxy on a free loopback port in front of `upstream` (`127.0.0.1:port`).
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let proxy = Self {
            url,
            rules: Arc::new(Mutex::new(Vec::new())),
            seen: Arc::new(Mutex::new(Vec::new())),
        };
        let me = proxy.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let me = me.clone();
                tokio::spawn(async move {
                    let _ = me.serve(client, upstream).await;
                });
            }
        });
        proxy
    }

    /// Applies `fault` to the next `times` requests whose path contains `path`.
    pub fn inject(&self, path: &str, fault: Fault, times: usize) {
        self.rules.lock().unwrap().push(Rule {
            path: path.to_string(),
            fault,
            times,
        });
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.rules.lock().unwrap().clear();
    }

    /// "METHOD path" of every request seen, in order.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    fn take(&self, path: &str) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap();
        let i = rules
            .iter()
            .position(|r| path.contains(&r.path) && r.times > 0)?;
        rules[i].times -= 1;
        let fault = rules[i].fault.clone();
        if rules[i].times == 0 {
            rules.remove(i);
        }
        Some(fault)
    }

    async fn serve(&self, mut client: TcpStream, upstream: SocketAddr) -> std::io::Result<()> {
        let Some((head, body)) = read_message(&mut client).await? else {
            return Ok(());
        };
        let request_line = head.lines().next().unwrap_or("").to_string();
        let path = request_line.split(' ').nth(1).unwrap_or("").to_string();
        let method = request_line.split(' ').next().unwrap_or("").to_string();
        self.seen.lock().unwrap().push(format!("{method} {path}"));
        let fault = self.take(&path);
        if let Some(Fault::Refuse) = fault {
            return Ok(()); // dropped: the mint never sees it
        }
        if let Some(Fault::Stall(arrived)) = &fault {
            arrived.notify_one();
            std::future::pending::<()>().await;
        }
        if let Some(Fault::Answer(status, text)) = &fault {
            return respond(&mut client, *status, "application/json", text.as_bytes()).await;
        }
        let mut mint = TcpStream::connect(upstream).await?;
        mint.write_all(close_head(&head).as_bytes()).await?;
        mint.write_all(&body).await?;
        let Some((answer_head, answer_body)) = read_message(&mut mint).await? else {
            return Ok(());
        };
        let status: u16 = answer_head
            .lines()
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(502);
        let content_type =
            header(&answer_head, "content-type").unwrap_or("application/json".into());
        match fault {
            Some(Fault::LoseAnswer) => Ok(()),
            Some(Fault::Hold { arrived, release }) => {
                arrived.notify_one();
                release.notified().await;
                respond(&mut client, status, &content_type, &answer_body).await
            }
            Some(Fault::Rewrite(change)) => {
                let text = change(String::from_utf8_lossy(&answer_body).to_string());
                respond(&mut client, status, &content_type, text.as_bytes()).await
            }
            _ => respond(&mut client, status, &content_type, &answer_body).await,
        }
    }
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// The request head with `Connection: close` (one exchange per connection).
fn close_head(head: &str) -> String {
    let mut out = String::new();
    for (i, line) in head.split("\r\n").enumerate() {
        if i > 0 && line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        if line.is_empty() {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

async fn respond(
    client: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    client.write_all(head.as_bytes()).await?;
    client.write_all(body).await?;
    client.shutdown().await
}

/// Reads one HTTP/1.1 message: its head (up to the blank line) and a Content-Length or
/// chunked body (de-chunked). `None` when the peer closed first.
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut body = buf[head_end..].to_vec();
    if let Some(len) = header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        while body.len() < len {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body.truncate(len);
    } else if header(&head, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
            if body.ends_with(b"0\r\n\r\n") {
                break;
            }
        }
        body = dechunk(&body);
    }
    // The head without the framing headers: `respond` writes its own.
    let head = head
        .split("\r\n")
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            !l.starts_with("content-length:") && !l.starts_with("transfer-encoding:")
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    let head = if head.ends_with("\r\n\r\n") {
        head
    } else {
        format!("{}\r\n\r\n", head.trim_end())
    };
    Ok(Some((with_length(&head, body.len()), body)))
}

fn with_length(head: &str, len: usize) -> String {
    let trimmed = head.trim_end_matches("\r\n");
    format!("{trimmed}\r\nContent-Length: {len}\r\n\r\n")
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..i]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = i + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = &data[(end + 2).min(data.len())..];
    }
    out
}
