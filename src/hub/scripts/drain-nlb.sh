# shellcheck shell=bash
# drain/undrain behind the NLB (fleet mode nlb): leave every target group of this instance's Auto Scaling group
# where another target is healthy, wait until deregistered, and register again after the reconfigure.
# Parameters: REGION and INSTANCE_ID (from the env file); TARGET_GROUPS is set by drain for undrain.
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
drain() {
  local group tg
  group=$(aws autoscaling describe-auto-scaling-instances --region "$REGION" --instance-ids "$INSTANCE_ID" \
    --query 'AutoScalingInstances[0].AutoScalingGroupName' --output text)
  TARGET_GROUPS=$(aws autoscaling describe-auto-scaling-groups --region "$REGION" --auto-scaling-group-names "$group" \
    --query 'AutoScalingGroups[0].TargetGroupARNs[]' --output text)
  [ "$TARGET_GROUPS" = None ] && TARGET_GROUPS=
  # Leaving a target group with no other healthy target would take its tenants' capacity away (scaling.min 1):
  # reconfigure in place there instead. An unanswered count counts as none.
  local all=$TARGET_GROUPS others
  TARGET_GROUPS=
  for tg in $all; do
    others=$(aws elbv2 describe-target-health --region "$REGION" --target-group-arn "$tg" \
      --query "length(TargetHealthDescriptions[?Target.Id != '$INSTANCE_ID' && TargetHealth.State == 'healthy'])" --output text) || others=0
    if [[ "$others" =~ ^[0-9]+$ ]] && [ "$others" -gt 0 ]; then
      TARGET_GROUPS="$TARGET_GROUPS $tg"
    else
      say "drain: no other healthy target in $tg; staying registered there (reconfiguring in place)"
    fi
  done
  for tg in $TARGET_GROUPS; do
    aws elbv2 deregister-targets --region "$REGION" --target-group-arn "$tg" --targets "Id=$INSTANCE_ID"
  done
  for tg in $TARGET_GROUPS; do
    # The waiter polls every 15 s; bounded by timeout. Deregistration lasts the group's deregistration delay.
    timeout 600 aws elbv2 wait target-deregistered --region "$REGION" --target-group-arn "$tg" --targets "Id=$INSTANCE_ID" \
      || say "warning: $tg still lists this instance after 600 s"
  done
  say "drain: deregistered from $(wc -w <<<"$TARGET_GROUPS") target group(s)"
}
undrain() {
  local tg
  for tg in ${TARGET_GROUPS:-}; do
    aws elbv2 register-targets --region "$REGION" --target-group-arn "$tg" --targets "Id=$INSTANCE_ID"
  done
  for tg in ${TARGET_GROUPS:-}; do
    timeout 600 aws elbv2 wait target-in-service --region "$REGION" --target-group-arn "$tg" --targets "Id=$INSTANCE_ID" \
      || say "warning: $tg does not report this instance healthy after 600 s"
  done
}
