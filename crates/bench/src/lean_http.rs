//! The launch scenario's load generator: one keep-alive HTTP/1.1 connection per virtual user,
//! sending one prepared request again and again and reading each answer by its Content-Length.
//! It shares the machine's cores with the hub, so it does as little as a client can (as wrk
//! does): no header maps, no cookie store, no body decoding. Measured at 16 virtual users, it
//! takes a fraction of the CPU per launch that reqwest did.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A request's bytes, sent as they are.
pub(super) struct PreparedRequest(Vec<u8>);

impl PreparedRequest {
    /// A form POST to `path` at `host` (the Host header), with these extra header lines.
    pub fn form_post(host: &str, path: &str, headers: &[(&str, &str)], body: &str) -> PreparedRequest {
        let mut text = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\n");
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
        PreparedRequest(text.into_bytes())
    }
}

/// An answer: its status and body.
pub(super) struct Answer<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

/// A connection to one server, opened again after an error.
pub(super) struct Connection {
    address: String,
    stream: Option<TcpStream>,
    buffer: Vec<u8>,
}

/// The longest head (status line and headers) accepted.
const MOST_HEAD: usize = 16 * 1024;
/// The longest body accepted.
const MOST_BODY: usize = 4 * 1024 * 1024;

impl Connection {
    pub fn new(address: &str) -> Connection {
        Connection { address: address.to_string(), stream: None, buffer: Vec::with_capacity(16 * 1024) }
    }

    /// Sends `request` and reads its answer; on any error the connection is dropped, and the next
    /// exchange opens a new one.
    pub async fn exchange(&mut self, request: &PreparedRequest) -> Result<Answer<'_>, String> {
        match self.try_exchange(request).await {
            Ok((status, head, length)) => {
                let body = self.buffer.get(head..head + length).ok_or("a body shorter than announced")?;
                Ok(Answer { status, body })
            }
            Err(e) => {
                self.stream = None;
                Err(e)
            }
        }
    }

    /// Status, head length and body length; the body is in the buffer after the head.
    async fn try_exchange(&mut self, request: &PreparedRequest) -> Result<(u16, usize, usize), String> {
        if self.stream.is_none() {
            let stream =
                TcpStream::connect(&self.address).await.map_err(|e| format!("connecting to {}: {e}", self.address))?;
            stream.set_nodelay(true).map_err(|e| format!("setting TCP_NODELAY: {e}"))?;
            self.stream = Some(stream);
        }
        let stream = self.stream.as_mut().ok_or("no connection")?;
        stream.write_all(&request.0).await.map_err(|e| format!("sending: {e}"))?;
        self.buffer.clear();
        let (status, head, length) = loop {
            if let Some(parsed) = parse_head(&self.buffer)? {
                break parsed;
            }
            if self.buffer.len() > MOST_HEAD {
                return Err(format!("an answer head longer than {MOST_HEAD} bytes"));
            }
            read_more(stream, &mut self.buffer).await?;
        };
        if length > MOST_BODY {
            return Err(format!("an answer body of {length} bytes"));
        }
        while self.buffer.len() < head + length {
            read_more(stream, &mut self.buffer).await?;
        }
        if self.buffer.len() > head + length {
            return Err("more bytes than the answer announced".to_string());
        }
        Ok((status, head, length))
    }
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Result<(), String> {
    buffer.reserve(16 * 1024);
    match stream.read_buf(buffer).await {
        Ok(0) => Err("the server closed the connection".to_string()),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("reading: {e}")),
    }
}

/// The status, the head's length (through the blank line) and the Content-Length, once the whole
/// head is in `bytes`; `None` while it is not.
fn parse_head(bytes: &[u8]) -> Result<Option<(u16, usize, usize)>, String> {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else { return Ok(None) };
    let head =
        std::str::from_utf8(bytes.get(..end).unwrap_or_default()).map_err(|_| "an answer head that is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP/1.1 status line: {status_line:?}"))?;
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse::<usize>().map_err(|_| format!("a bad Content-Length: {value:?}"))?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(format!("a {} body; this client reads bodies by Content-Length", value.trim()));
        }
    }
    let length = length.ok_or("an answer without Content-Length")?;
    Ok(Some((status, end + 4, length)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_read_once_complete_and_bodies_by_their_length() {
        assert_eq!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-len").unwrap(), None);
        let answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\ncontent-length: 5\r\n\r\nhello";
        assert_eq!(parse_head(answer).unwrap(), Some((200, 63, 5)));
        assert!(parse_head(b"HTTP/1.1 200 OK\r\n\r\n").unwrap_err().contains("without Content-Length"));
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap_err().contains("chunked"));
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").unwrap_err().contains("status line"));
        let request = PreparedRequest::form_post("h:1", "/p", &[("Cookie", "a=b")], "x=1");
        assert_eq!(
            String::from_utf8(request.0).unwrap(),
            "POST /p HTTP/1.1\r\nHost: h:1\r\nCookie: a=b\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\nx=1"
        );
    }

    /// A server that answers two requests on each connection, the second in two pieces, then
    /// closes it: the client keeps its connection for both, fails the third exchange, and opens a
    /// new connection for the fourth.
    #[tokio::test]
    async fn one_connection_serves_requests_until_it_closes_then_a_new_one_is_opened() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let mut accepted = 0;
            while accepted < 2 {
                let (mut stream, _) = listener.accept().await.unwrap();
                accepted += 1;
                for answer in 0..2 {
                    let mut request = vec![0u8; 4096];
                    let read = stream.read(&mut request).await.unwrap();
                    assert!(request[..read].ends_with(b"\r\n\r\nk=v"));
                    let body = format!("connection {accepted} answer {answer}");
                    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                    stream.write_all(head.as_bytes()).await.unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    stream.write_all(body.as_bytes()).await.unwrap();
                }
            }
        });
        let request = PreparedRequest::form_post(&address, "/", &[], "k=v");
        let mut connection = Connection::new(&address);
        for expected in ["connection 1 answer 0", "connection 1 answer 1"] {
            let answer = connection.exchange(&request).await.unwrap();
            assert_eq!((answer.status, answer.body), (200, expected.as_bytes()));
        }
        assert!(connection.exchange(&request).await.is_err());
        let answer = connection.exchange(&request).await.unwrap();
        assert_eq!(answer.body, b"connection 2 answer 0");
        drop(connection);
        server.abort();
    }
}
