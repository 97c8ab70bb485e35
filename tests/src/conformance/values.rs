//! Every `Value` variant survives a write and a read unchanged.

use dbx_core::{Statement, Value};

use crate::Harness;

async fn value_table<H: Harness>(h: &H) -> std::sync::Arc<dyn dbx_core::Adapter> {
    let db = h.database().await;
    let t = h.types();
    let ddl = format!(
        "CREATE TABLE vals (id {} PRIMARY KEY, i {}, r {}, t {}, b {})",
        t.integer, t.integer, t.real, t.text, t.blob
    );
    db.execute(ddl.into()).await.unwrap();
    db
}

#[allow(clippy::approx_constant)]
pub async fn every_variant_round_trips<H: Harness>(h: &H) {
    let db = value_table(h).await;
    let rows: Vec<(Value, Value, Value, Value)> = vec![
        (Value::Null, Value::Null, Value::Null, Value::Null),
        (
            i64::MIN.into(),
            1e18.into(),
            "".into(),
            Vec::<u8>::new().into(),
        ),
        (
            i64::MAX.into(),
            (-0.5).into(),
            "héllo wörld ✓ 日本語 🎉".into(),
            vec![0u8, 255, 1, 254].into(),
        ),
        (
            0.into(),
            3.141_592_653_589_793.into(),
            "quote ' and \" and \\ and \n".into(),
            vec![0u8; 3].into(),
        ),
        (
            (-1).into(),
            f64::MAX.into(),
            "NULL".into(),
            b"\x00text\x00".to_vec().into(),
        ),
    ];
    for (id, (i, r, t, b)) in rows.iter().enumerate() {
        let stmt = Statement::with_args(
            "INSERT INTO vals (id, i, r, t, b) VALUES (?, ?, ?, ?, ?)",
            [
                Value::Integer(i64::try_from(id).unwrap()),
                i.clone(),
                r.clone(),
                t.clone(),
                b.clone(),
            ],
        );
        db.execute(stmt).await.unwrap();
    }
    let back = db
        .query("SELECT i, r, t, b FROM vals ORDER BY id".into())
        .await
        .unwrap();
    assert_eq!(back.rows.len(), rows.len());
    for (row, (i, r, t, b)) in back.rows.iter().zip(&rows) {
        assert_eq!(row.values(), &[i.clone(), r.clone(), t.clone(), b.clone()]);
    }
    // 1e18 is exactly representable as an integer, and must still come back as a float.
    assert!(matches!(back.rows[1].values()[1], Value::Real(r) if r == 1e18));
}

pub async fn large_blob_round_trips<H: Harness>(h: &H) {
    let db = value_table(h).await;
    let blob: Vec<u8> = (0..1024 * 1024)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    db.execute(Statement::with_args(
        "INSERT INTO vals (id, b) VALUES (1, ?)",
        [blob.clone()],
    ))
    .await
    .unwrap();
    let back = db
        .query("SELECT b FROM vals WHERE id = 1".into())
        .await
        .unwrap();
    let got: Vec<u8> = back.scalar().unwrap();
    assert_eq!(got.len(), blob.len());
    assert!(got == blob, "the 1 MiB blob changed on the way");
}

pub async fn typed_getters_by_index_and_name<H: Harness>(h: &H) {
    let db = value_table(h).await;
    db.execute(Statement::with_args(
        "INSERT INTO vals (id, i, t) VALUES (?, ?, ?)",
        [Value::Integer(7), Value::Integer(-42), "x".into()],
    ))
    .await
    .unwrap();
    let rs = db
        .query("SELECT id, i, t, b FROM vals".into())
        .await
        .unwrap();
    let row = rs.first().unwrap();
    assert_eq!(row.get::<i64>(0).unwrap(), 7);
    assert_eq!(row.get::<i32>("i").unwrap(), -42);
    assert_eq!(row.get::<String>("t").unwrap(), "x");
    assert_eq!(row.get::<Option<Vec<u8>>>("b").unwrap(), None);
    assert!(row.get::<u8>("i").is_err(), "-42 does not fit a u8");
    assert!(row.get::<i64>("missing").is_err());
    assert_eq!(rs.column_names().collect::<Vec<_>>(), ["id", "i", "t", "b"]);
}

pub async fn table_columns_report_decltypes<H: Harness>(h: &H) {
    let db = value_table(h).await;
    let rs = db
        .query("SELECT i, r, t, b FROM vals".into())
        .await
        .unwrap();
    let t = h.types();
    let expected: Vec<String> = [t.integer, t.real, t.text, t.blob]
        .iter()
        .map(|d| {
            if h.result_decltypes() {
                h.reported_decltype(d)
            } else {
                String::new()
            }
        })
        .collect();
    let got: Vec<String> = rs
        .columns
        .iter()
        .map(|c| c.decltype.clone().unwrap_or_default())
        .collect();
    assert_eq!(got, expected);
}
