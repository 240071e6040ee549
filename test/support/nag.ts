// cdk-nag in tests: the AwsSolutions pack run directly over a construct tree; acknowledged findings
// (Validations.of(x).acknowledge next to the construct) are excluded by cdk-nag itself.
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export interface NagFinding {
  readonly rule: string;
  readonly resources: readonly string[];
  readonly description: string;
}

export function nagFindings(scope: IConstruct): NagFinding[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations.map((v) => ({
    rule: v.ruleName,
    description: v.description,
    resources: v.violatingResources.map((r) => String((r as { constructPath?: string }).constructPath ?? r.resourceLogicalId)),
  }));
}
