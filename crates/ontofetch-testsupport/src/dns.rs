//! A DNS stub on 127.0.0.1 for tests of what the client dials: it answers every A/AAAA
//! query from a script, with TTL 0 (so nothing may cache), and counts the queries. The
//! script is a list of answer sets: the n-th lookup gets the n-th set (the last repeats),
//! which is how a rebinding name (first public, then private) is played.

use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{RData, Record, RecordType};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// The stub; stops when dropped.
pub struct DnsStub {
    addr: SocketAddr,
    failing: bool,
    lookups: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn answer(request: &Message, ips: &[IpAddr]) -> Message {
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.metadata.authoritative = true;
    for q in &request.queries {
        response.queries.push(q.clone());
        for ip in ips {
            let rdata = match (q.query_type(), ip) {
                (RecordType::A, IpAddr::V4(v4)) => RData::A(A(*v4)),
                (RecordType::AAAA, IpAddr::V6(v6)) => RData::AAAA(AAAA(*v6)),
                _ => continue,
            };
            response.answers.push(Record::from_rdata(q.name().clone(), 0, rdata));
        }
    }
    response
}

impl DnsStub {
    /// Starts the stub with its script of answer sets (at least one).
    pub fn start(script: Vec<Vec<IpAddr>>) -> DnsStub {
        DnsStub::serve(script, false)
    }

    /// A stub that answers every query SERVFAIL (a resolver that cannot reach anything:
    /// an offline machine), counting them.
    pub fn failing() -> DnsStub {
        DnsStub::serve(vec![vec![]], true)
    }

    fn serve(script: Vec<Vec<IpAddr>>, failing: bool) -> DnsStub {
        assert!(!script.is_empty(), "a script needs at least one answer set");
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        socket.set_read_timeout(Some(Duration::from_millis(50))).expect("read timeout");
        let addr = socket.local_addr().expect("address");
        let (lookups, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let (l, s) = (lookups.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            // A lookup asks for A and AAAA; the A query advances the script.
            let (mut a_seen, mut aaaa_seen) = (0usize, 0usize);
            let mut buf = [0u8; 2048];
            while !s.load(Ordering::SeqCst) {
                let Ok((n, peer)) = socket.recv_from(&mut buf) else { continue };
                let Ok(request) = Message::from_vec(&buf[..n]) else { continue };
                if request.metadata.message_type != MessageType::Query {
                    continue;
                }
                let kind = request.queries.first().map(|q| q.query_type());
                let index = if kind == Some(RecordType::AAAA) { &mut aaaa_seen } else { &mut a_seen };
                let ips = &script[(*index).min(script.len() - 1)];
                *index += 1;
                if kind != Some(RecordType::AAAA) {
                    l.fetch_add(1, Ordering::SeqCst);
                }
                let mut reply = answer(&request, ips);
                if failing {
                    reply.answers.clear();
                    reply.metadata.response_code = hickory_proto::op::ResponseCode::ServFail;
                }
                if let Ok(bytes) = reply.to_vec() {
                    let _ = socket.send_to(&bytes, peer);
                }
            }
        });
        DnsStub { addr, failing, lookups, stop, thread: Some(thread) }
    }

    /// Whether it answers SERVFAIL.
    pub fn is_failing(&self) -> bool {
        self.failing
    }

    /// Where the stub listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A lookups answered so far.
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

impl Drop for DnsStub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
