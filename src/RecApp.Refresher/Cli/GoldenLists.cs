using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RecApp.Engine.Domain;
using RecApp.Engine.Scoring;
using RecApp.Refresher.Evaluation;

namespace RecApp.Refresher.Cli;

/// <summary>
/// What the engine serves each test user of an evaluation, as one line per user: <c>user_id, algorithm, digest</c>,
/// the digest a SHA-256 prefix of the top-K item ids. A refactoring that must not change a list is checked by comparing
/// these files before and after (bench/golden/run.sh); the digest keeps licensed datasets' lists out of the repository.
/// </summary>
public static class GoldenLists
{
    /// <summary>Builds the evaluation's model, serves every test user and writes the lines; returns how many.</summary>
    public static int Write(Dataset dataset, EvaluationOptions options, string path)
    {
        var run = OfflineEvaluator.Prepare(dataset, options);
        var lines = new string[run.Users.Length];
        Parallel.For(0, run.Users.Length, u =>
        {
            var list = run.For(run.Users[u], CandidateSource.Hybrid);
            lines[u] = Line(run.Users[u], list.Algorithm, list.ItemIds.Take(options.K));
        });
        File.WriteAllLines(path, lines);
        return lines.Length;
    }

    public static string Line(long userId, RecommendationAlgorithm algorithm, IEnumerable<long> items)
    {
        var joined = string.Join(',', items.Select(i => i.ToString(CultureInfo.InvariantCulture)));
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(joined)))[..16];
        return string.Create(CultureInfo.InvariantCulture, $"{userId}\t{algorithm.ToWireName()}\t{digest}");
    }
}
