//! `approve` steps: a bank reviewer's decision, carried out by the environment's approver.

use super::*;

impl ScenarioRun<'_> {
    pub(super) async fn approve_step(
        &mut self,
        step: &Step,
        a: &rehearse_scenario::Approval,
        cancel: &CancellationToken,
        result: &mut StepResult,
    ) -> Outcome {
        let t = &self.plan.templates;
        let rendered = t
            .render_string(&a.reference, &self.vars)
            .and_then(|reference| {
                let note = a
                    .note
                    .as_ref()
                    .map(|n| t.render_string(n, &self.vars))
                    .transpose()?;
                Ok((reference, note))
            });
        let (reference, note) = match rendered {
            Ok(r) => r,
            Err(e) => {
                result.status = Status::Error;
                result.failure = Some(step_failure(
                    step,
                    "approve",
                    "every variable to be set".to_owned(),
                    self.redactor.mask(&e.message),
                ));
                return Outcome::Failed;
            }
        };
        let Some(approver) = self.approver.clone() else {
            result.status = Status::Error;
            result.failure = Some(step_failure(
                step,
                "approve",
                "an approval mode".to_owned(),
                "no approver: the environment approves through the bank mock but has no var `bank_admin`".to_owned(),
            ));
            return Outcome::Failed;
        };
        let amount = match a
            .amount
            .as_ref()
            .map(|t| self.plan.templates.render_string(t, &self.vars))
        {
            Some(Ok(v)) => Some(v),
            _ => None,
        };
        let instructions = self
            .plan
            .environment
            .approval_instructions
            .as_ref()
            .and_then(|i| {
                let mut vars = (*self.vars).clone();
                vars.insert("reference".to_owned(), reference.clone().into());
                vars.insert("decision".to_owned(), a.decision.as_str().into());
                vars.insert(
                    "note".to_owned(),
                    note.clone().map_or(serde_json::Value::Null, Into::into),
                );
                vars.insert(
                    "amount".to_owned(),
                    amount.clone().map_or(serde_json::Value::Null, Into::into),
                );
                self.plan.templates.render_string(i, &Arc::new(vars)).ok()
            });
        let request = ApprovalRequest {
            reference,
            decision: a.decision,
            note,
            amount,
            instructions,
            scenario: self.scenario_name.clone(),
            step: step.name.clone(),
        };
        // Carrying out the approval, the scenario waits: the run may be suspended here.
        let _waiting = self
            .suspension
            .as_deref()
            .map(crate::resume::Suspension::waiting);
        tokio::select! {
            () = suspension_fired(self.suspension.as_deref()) => Outcome::Suspended,
            r = approver.approve(&request) => match r {
                Ok(summary) => {
                    result.captures.push(("approval".to_owned(), self.redactor.mask(&summary)));
                    Outcome::Passed
                }
                Err(e) => {
                    result.status = Status::Failed;
                    result.failure = Some(step_failure(step, "approve", format!("the bank to {} {}", a.decision.as_str(), request.reference), self.redactor.mask(&e)));
                    Outcome::Failed
                }
            },
            () = cancel.cancelled() => Outcome::Interrupted,
        }
    }
}
