//! Many sockets at once: 10,000 UDP sockets, then 10,000 Unix datagram sockets (5,000 pairs),
//! each set held open together, every one used once, then all closed, with the reactor's
//! registrations back to zero. What this guards: a registration per socket that never dies (a
//! leaked slab entry or epoll interest per closed socket), and a reactor whose cost grows with
//! the number of idle sockets instead of the number of ready ones.
//!
//! This file is its own test process because it raises the process's fd soft limit to the
//! hard limit (10,000 sockets need 10,000 descriptors, more than the usual soft limit of 1,024).

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use evloop::net::{UdpSocket, UnixDatagram};
use evloop::time::timeout;
use evloop::{Runtime, spawn};

const SOCKETS: usize = 10_000;

/// Raises the fd soft limit to the hard limit; returns the new soft limit.
fn raise_fd_limit() -> libc::rlim_t {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit with a valid pointer to an rlimit we own.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    limit.rlim_cur
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri does not emulate setrlimit, and 20,000 interpreted sockets would take hours"
)]
fn ten_thousand_udp_then_ten_thousand_unix_datagram_sockets_open_work_and_close_without_a_trace() {
    let limit = raise_fd_limit();
    assert!(
        limit >= SOCKETS as libc::rlim_t + 100,
        "the fd hard limit ({limit}) is too low for {SOCKETS} sockets: raise it (ulimit -Hn)"
    );
    let runtime = Runtime::new().unwrap();
    runtime.block_on(async {
        assert_eq!(evloop::stats().io_sources, 0);
        udp_sockets().await;
        assert_eq!(evloop::stats().io_sources, 0, "every UDP socket deregistered itself");
        unix_datagram_pairs().await;
        assert_eq!(evloop::stats().io_sources, 0, "every Unix socket deregistered itself");
    });
    assert_eq!(runtime.stats().io_sources, 0);
    assert_eq!(runtime.stats().tasks, 0);
}

/// 10,000 bound UDP sockets, each with a task parked in `recv_from`; one sender wakes each with
/// a datagram naming it; each task checks it got its own.
async fn udp_sockets() {
    let sockets: Vec<Rc<UdpSocket>> = (0..SOCKETS)
        .map(|_| Rc::new(UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap()))
        .collect();
    let sender = UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    assert_eq!(evloop::stats().io_sources, SOCKETS + 1);
    let addrs: Vec<SocketAddr> = sockets.iter().map(|s| s.local_addr().unwrap()).collect();
    let receivers: Vec<_> = sockets
        .iter()
        .enumerate()
        .map(|(i, socket)| {
            let socket = socket.clone();
            spawn(async move {
                let mut buf = [0u8; 8];
                let (n, _) = socket.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], &(i as u64).to_le_bytes(), "socket {i} got its own datagram");
            })
        })
        .collect();
    for (i, addr) in addrs.iter().enumerate() {
        sender.send_to(&(i as u64).to_le_bytes(), *addr).await.unwrap();
    }
    for receiver in receivers {
        timeout(Duration::from_secs(30), receiver)
            .await
            .expect("every datagram arrives on loopback")
            .unwrap();
    }
    drop((sockets, sender));
}

/// 5,000 Unix datagram pairs (10,000 sockets): every pair carries one datagram each way.
async fn unix_datagram_pairs() {
    let pairs: Vec<(UnixDatagram, UnixDatagram)> = (0..SOCKETS / 2).map(|_| UnixDatagram::pair().unwrap()).collect();
    assert_eq!(evloop::stats().io_sources, SOCKETS);
    let mut buf = [0u8; 8];
    for (i, (a, b)) in pairs.iter().enumerate() {
        a.send(&(i as u64).to_le_bytes()).await.unwrap();
        b.send(&(!i as u64).to_le_bytes()).await.unwrap();
        assert_eq!(b.recv(&mut buf).await.unwrap(), 8);
        assert_eq!(buf, (i as u64).to_le_bytes());
        assert_eq!(a.recv(&mut buf).await.unwrap(), 8);
        assert_eq!(buf, (!i as u64).to_le_bytes());
    }
    drop(pairs);
}
