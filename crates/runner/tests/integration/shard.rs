//! `--shard K/N` splits the selected scenarios deterministically.

use rehearse_runner::{Selection, Shard};

use crate::common::Project;

#[test]
fn shards_together_select_every_scenario_exactly_once() {
    // Written out of order: shards follow the sorted paths, not the order given.
    let mut project = Project::new("http://127.0.0.1:9");
    for i in [7, 2, 9, 0, 4, 1, 8, 3, 6, 5] {
        project = project.scenario(
            &format!("s{i:02}.yaml"),
            &format!(
                "name: scenario {i}\nsteps:\n  - request: {{ url: \"{{{{ base }}}}/{i}\" }}\n"
            ),
        );
    }
    let (plan, _) = project.compile();
    let all: Vec<String> = {
        let mut names: Vec<String> = plan.scenarios.iter().map(|s| s.name.clone()).collect();
        names.sort();
        names
    };
    assert_eq!(all.len(), 10);

    let mut seen: Vec<String> = Vec::new();
    let mut sizes = Vec::new();
    for k in 1..=3 {
        let selection = Selection {
            shard: Some(Shard { index: k, total: 3 }),
            ..Selection::default()
        };
        let picked = selection.apply(plan.scenarios.clone());
        // Deterministic: the same shard twice, from a differently ordered input.
        let mut reversed = plan.scenarios.clone();
        reversed.reverse();
        let again = selection.apply(reversed);
        assert_eq!(
            picked.iter().map(|s| &s.path).collect::<Vec<_>>(),
            again.iter().map(|s| &s.path).collect::<Vec<_>>()
        );
        sizes.push(picked.len());
        seen.extend(picked.into_iter().map(|s| s.name));
    }
    seen.sort();
    assert_eq!(
        seen, all,
        "every scenario exactly once across 1/3, 2/3, 3/3"
    );
    assert!(
        sizes.iter().all(|&n| n == 3 || n == 4),
        "balanced: {sizes:?}"
    );
}
