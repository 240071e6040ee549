// CloudFormation's per-template limits, checked at synth for every stack an egresshub construct is placed in,
// with the stack's path and what to do: a stack over a limit is otherwise refused only at deploy time, by
// CloudFormation, after the stacks before it were deployed.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
import { CfnOutput, CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Outputs per template ("Outputs": 200). */
export const CFN_MAX_OUTPUTS = 200;
/** Resources per template ("Resources": 500). */
export const CFN_MAX_RESOURCES = 500;

const checked = new WeakSet<Stack>();

/** A synth-time check of the outputs and resources of `construct`'s stack against CloudFormation's limits (once per stack). */
export function checkStackLimits(construct: IConstruct): void {
  const stack = Stack.of(construct);
  if (checked.has(stack)) return;
  checked.add(stack);
  construct.node.addValidation({
    validate: () => {
      let outputs = 0;
      let resources = 0;
      for (const c of stack.node.findAll()) {
        if (Stack.of(c) !== stack) continue;
        if (c instanceof CfnOutput) outputs++;
        else if (c instanceof CfnResource) resources++;
      }
      const where = `egresshub: stack ${stack.node.path} (${stack.stackName})`;
      const errors: string[] = [];
      if (outputs > CFN_MAX_OUTPUTS) {
        errors.push(
          `${where} has ${outputs} outputs, above CloudFormation's limit of ${CFN_MAX_OUTPUTS} per template; each tenant published here adds 3: ` +
            `spread the tenants over several stacks, one EgressTenants each (planEgress(config).tenantStacks gives blocks that fit)`,
        );
      }
      if (resources > CFN_MAX_RESOURCES) {
        errors.push(
          `${where} has ${resources} resources, above CloudFormation's limit of ${CFN_MAX_RESOURCES} per template: ` +
            `move constructs into stacks of their own (EgressTenants and EgressSpoke each fit in a stack apart from the hub)`,
        );
      }
      return errors;
    },
  });
}
