//! Markdown tables, and `paydesk-bench all`: every benchmark on both databases.

use anyhow::Result;

use crate::server::Env;
use crate::{Database, Provider, checkout, notify, search, server};

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let line = |cells: &[String]| format!("| {} |", cells.join(" | "));
        let mut out = vec![
            line(&self.header),
            line(
                &self
                    .header
                    .iter()
                    .map(|_| "---".to_string())
                    .collect::<Vec<_>>(),
            ),
        ];
        out.extend(self.rows.iter().map(|r| line(r)));
        out.join("\n")
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores ({cpu})")
}

pub async fn all(env: &Env, count: usize, orders: usize) -> Result<()> {
    println!("Machine: {}\n", machine());
    for db in [Database::Sqlite, Database::Postgres] {
        println!("{}\n", server::lifecycle(env, db, 3).await?.markdown());
    }
    let mut t = Table::new(&notify::NotifyReport::HEADER);
    for db in [Database::Sqlite, Database::Postgres] {
        for p in [Provider::Alipay, Provider::Wechatpay, Provider::Stripe] {
            t.row(notify::run(env, p, db, count, 64).await?.cells());
        }
    }
    println!("{}\n", t.render());
    let mut t = Table::new(&[
        "checkout",
        "database",
        "created",
        "per second",
        "p50",
        "p90",
        "p99",
        "max",
    ]);
    for db in [Database::Sqlite, Database::Postgres] {
        for conns in [1, 8] {
            t.row(
                checkout::run(env, Provider::Wechatpay, db, 1_000, conns)
                    .await?
                    .cells(),
            );
        }
    }
    println!("{}\n", t.render());
    for db in [Database::Sqlite, Database::Postgres] {
        println!("{}\n", search::run(env, db, orders, 200).await?.markdown());
    }
    Ok(())
}
