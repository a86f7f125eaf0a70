//! Projections: rebuilding from the log gives the same read model as live folding.

use crate::helpers::spawn_app;

#[tokio::test]
async fn rebuilding_the_read_models_gives_the_live_result() {
    let app = spawn_app().await;
    for i in 0..50 {
        app.post(&format!("message {i} with 'quotes' and \"more\"")).await;
    }
    app.wait_projected().await;
    let live = app.read_model_dump().await;
    assert!(live.len() > 50);

    let database_url = app.database_url.clone();
    let dir = app.stop().await;
    let position = parley_server::startup::rebuild_projections(&database_url)
        .await
        .unwrap();

    let app = crate::helpers::spawn_app_in(dir).await;
    assert_eq!(position, app.head().await);
    assert_eq!(app.read_model_dump().await, live);
}
