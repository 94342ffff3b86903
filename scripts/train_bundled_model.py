#!/usr/bin/env python3
"""Train the model bundled in Sources/VigilEngine/Resources/model.json.

Vigil needs a model on first run, before a bank has brought its own history. This script
generates synthetic feature rows with Vigil's own feature names (see `vigil features list`),
labels them with three fraud typologies that overlap with genuine behaviour, and trains an
XGBoost binary:logistic model. It is a stand-in until `vigil train` exists: the scores it
gives are plausible, not calibrated on real fraud.

    pip install xgboost-cpu numpy
    python3 scripts/train_bundled_model.py --seed 7 --rows 80000 \
        --out Sources/VigilEngine/Resources/model.json
"""
import argparse
import numpy as np
import xgboost as xgb

FEATURES = [
    "debtor.count_5m", "debtor.sum_5m", "debtor.count_1h", "debtor.sum_1h", "debtor.count_24h", "debtor.sum_24h",
    "debtor.count_7d", "debtor.sum_7d", "debtor.distinct_creditors_24h", "debtor.amount_mean", "debtor.amount_std",
    "debtor.amount_zscore", "debtor.hour_unusualness", "debtor.account_age_days", "pair.new_payee", "pair.count",
    "pair.days_since_last", "pair.amount_vs_max", "pair.possible_double_payment", "creditor.first_time_senders_1h",
    "creditor.first_time_senders_24h", "creditor.distinct_sending_banks_24h", "creditor.inbound_count_1h",
    "creditor.inbound_sum_1h", "creditor.inbound_count_24h", "creditor.inbound_sum_24h",
    "creditor.pass_through_ratio_24h", "creditor.age_days", "device.distinct_debtors_24h", "ip.distinct_debtors_24h",
    "request.confirmation_of_payee", "request.channel", "request.scheme", "request.amount_log10",
    "request.payee_known_days",
]


def generate(rng, n, fraud_rate):
    col = {name: np.full(n, np.nan) for name in FEATURES}
    kind = rng.choice(4, size=n, p=[1 - fraud_rate, fraud_rate * 0.45, fraud_rate * 0.25, fraud_rate * 0.30])
    app, ato, mule = kind == 1, kind == 2, kind == 3
    fraud = kind > 0

    history = rng.poisson(40, n) + 1
    new_account = rng.random(n) < 0.03
    history[new_account] = 0
    mean = rng.lognormal(3.8, 1.0, n)
    std = mean * rng.uniform(0.2, 1.3, n)
    amount = np.maximum(0.01, mean + std * rng.normal(0, 1, n))
    # APP scams and takeovers move unusually large sums; mule payments look ordinary to the sender.
    amount[app] *= rng.lognormal(1.2, 0.8, app.sum())
    amount[ato] *= rng.lognormal(1.0, 0.9, ato.sum())
    amount = np.maximum(0.01, np.round(amount, 2))

    c5 = rng.poisson(0.05, n); c5[ato] += rng.poisson(1.5, ato.sum())
    c1h = c5 + rng.poisson(0.3, n); c1h[ato] += rng.poisson(2, ato.sum()); c1h[app] += rng.poisson(0.6, app.sum())
    c24 = c1h + rng.poisson(1.5, n)
    c7 = c24 + rng.poisson(8, n)
    for name, counts in [("5m", c5), ("1h", c1h), ("24h", c24), ("7d", c7)]:
        col[f"debtor.count_{name}"] = counts.astype(float)
        col[f"debtor.sum_{name}"] = np.round(counts * mean * rng.uniform(0.5, 1.5, n), 2)
    col["debtor.distinct_creditors_24h"] = np.minimum(c24, rng.poisson(1.0, n) + (ato | app) * rng.poisson(1.5, n)).astype(float)
    has_history = history > 0
    col["debtor.amount_mean"] = np.where(has_history, mean, np.nan)
    col["debtor.amount_std"] = np.where(history > 1, std, np.nan)
    col["debtor.amount_zscore"] = np.where(history > 1, (amount - mean) / std, np.nan)
    unusual = rng.beta(2, 6, n)
    unusual[app | ato] = rng.beta(4, 3, (app | ato).sum())
    col["debtor.hour_unusualness"] = np.where(has_history, unusual, np.nan)
    age = rng.exponential(500, n)
    age[new_account] = 0
    col["debtor.account_age_days"] = age

    new_payee = rng.random(n) < 0.15
    new_payee[app] = rng.random(app.sum()) < 0.9
    new_payee[mule] = rng.random(mule.sum()) < 0.85
    col["pair.new_payee"] = new_payee.astype(float)
    pair_count = np.where(new_payee, 0, rng.geometric(0.15, n))
    col["pair.count"] = pair_count.astype(float)
    col["pair.days_since_last"] = np.where(new_payee, np.nan, rng.exponential(25, n))
    col["pair.amount_vs_max"] = np.where(new_payee, np.nan, rng.lognormal(-0.3, 0.5, n))
    col["pair.possible_double_payment"] = (rng.random(n) < 0.003).astype(float)

    ft1 = rng.poisson(0.05, n); ft1[mule] += rng.poisson(5, mule.sum())
    ft24 = ft1 + rng.poisson(0.4, n); ft24[mule] += rng.poisson(10, mule.sum())
    merchant = rng.random(n) < 0.1
    ft24[merchant] += rng.poisson(20, merchant.sum())
    col["creditor.first_time_senders_1h"] = ft1.astype(float)
    col["creditor.first_time_senders_24h"] = ft24.astype(float)
    banks = np.minimum(ft24 + 1, 1 + rng.poisson(0.5, n)); banks[mule] += rng.poisson(4, mule.sum())
    col["creditor.distinct_sending_banks_24h"] = banks.astype(float)
    in1 = ft1 + rng.poisson(0.3, n); in24 = np.maximum(in1, ft24 + rng.poisson(1.5, n))
    col["creditor.inbound_count_1h"] = in1.astype(float)
    col["creditor.inbound_sum_1h"] = np.round(in1 * rng.lognormal(4, 1, n), 2)
    col["creditor.inbound_count_24h"] = in24.astype(float)
    col["creditor.inbound_sum_24h"] = np.round(in24 * rng.lognormal(4, 1, n), 2)
    passthrough = rng.beta(1.5, 4, n) * 1.2; passthrough[mule] = rng.beta(6, 1.5, mule.sum()) * 1.1
    col["creditor.pass_through_ratio_24h"] = np.where(in24 > 0, passthrough, np.nan)
    creditor_age = rng.exponential(600, n); creditor_age[mule] = rng.exponential(12, mule.sum())
    col["creditor.age_days"] = creditor_age

    has_device = rng.random(n) < 0.7
    device = 1 + rng.poisson(0.1, n); device[ato] += rng.poisson(2, ato.sum())
    col["device.distinct_debtors_24h"] = np.where(has_device, device - 1, np.nan)
    ip = 1 + rng.poisson(0.4, n); ip[ato] += rng.poisson(3, ato.sum())
    col["ip.distinct_debtors_24h"] = np.where(has_device, ip - 1, np.nan)

    cop = rng.choice(4, size=n, p=[0.85, 0.07, 0.04, 0.04]).astype(float)
    cop[app] = rng.choice(4, size=app.sum(), p=[0.45, 0.2, 0.25, 0.1])
    cop[rng.random(n) < 0.3] = np.nan
    col["request.confirmation_of_payee"] = cop
    col["request.channel"] = rng.choice(5, size=n, p=[0.6, 0.25, 0.05, 0.08, 0.02]).astype(float)
    col["request.scheme"] = rng.choice(7, size=n, p=[0.4, 0.25, 0.15, 0.08, 0.05, 0.05, 0.02]).astype(float)
    col["request.amount_log10"] = np.log10(amount)
    known = rng.random(n) < 0.4
    col["request.payee_known_days"] = np.where(known & ~new_payee, rng.exponential(200, n), np.nan)

    X = np.column_stack([col[name] for name in FEATURES]).astype(np.float32)
    return X, fraud.astype(int)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rows", type=int, default=80000)
    parser.add_argument("--fraud-rate", type=float, default=0.02)
    parser.add_argument("--out", default="Sources/VigilEngine/Resources/model.json")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    X, y = generate(rng, args.rows, args.fraud_rate)
    split = int(len(y) * 0.8)
    train = xgb.DMatrix(X[:split], label=y[:split], feature_names=FEATURES)
    test = xgb.DMatrix(X[split:], label=y[split:], feature_names=FEATURES)
    params = {
        "objective": "binary:logistic", "max_depth": 4, "eta": 0.1, "subsample": 0.8, "colsample_bytree": 0.8,
        "lambda": 1.0, "min_child_weight": 2, "tree_method": "hist", "eval_metric": "auc", "seed": args.seed, "nthread": 2,
    }
    booster = xgb.train(params, train, num_boost_round=120, evals=[(test, "holdout")], verbose_eval=40)
    booster.save_model(args.out)
    print(f"wrote {args.out}: {booster.num_boosted_rounds()} trees, holdout {booster.eval(test)}")


if __name__ == "__main__":
    main()
