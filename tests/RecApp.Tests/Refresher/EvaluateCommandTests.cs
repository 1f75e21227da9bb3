using System.CommandLine;
using System.Text.Json;
using RecApp.Refresher.Cli;

namespace RecApp.Tests.Refresher;

/// <summary>The Refresher's <c>evaluate</c> verb end to end on the tiny synthetic data (in memory, no database).</summary>
public sealed class EvaluateCommandTests
{

    private static (int ExitCode, string Output) Run(params string[] arguments)
    {
        var output = new StringWriter();
        var root = RefresherCommandLine.Create(_ => throw new InvalidOperationException("the worker must not start"));
        var exitCode = root.Parse(["evaluate", .. arguments]).Invoke(new InvocationConfiguration { Output = output, Error = output });
        return (exitCode, output.ToString());
    }

    [Fact]
    public void Prints_the_table_and_writes_json_with_every_source_and_metric()
    {
        var json = Path.Combine(Path.GetTempPath(), $"recapp-eval-{Guid.NewGuid():N}.json");
        try
        {
            var (exitCode, output) = Run("--synthetic", "tiny", "--seed", "3", "--k", "5", "--split-seed", "9", "--json", json);

            Assert.True(exitCode == 0, output);
            Assert.Contains("| source | tier | P@5 | R@5 | nDCG@5 | MAP@5 | coverage | users |", output);
            var all = output.Split('\n').Where(line => line.StartsWith("| ", StringComparison.Ordinal)).Skip(1).ToArray();
            Assert.Contains(all, row => row.Split('|')[2].Trim() == "3+"); // per tier as well
            Assert.Contains("Chosen on the validation split", output);
            var rows = all.Where(row => row.Split('|')[2].Trim() == "all").ToArray();
            // popular, content, the collaborative item model (item-kNN or EASE, whichever the build chose), user-kNN, embeddings, hybrid
            Assert.Equal(["popular", "content", "userknn", "embeddings", "hybrid"], rows.Select(r => r.Split('|')[1].Trim('*', ' ')).Where(s => s is not ("itemknn" or "ease")));
            Assert.Equal(6, rows.Length);
            Assert.All(all, row => Assert.Equal(10, row.Split('|').Length)); // 8 columns

            using var document = JsonDocument.Parse(File.ReadAllText(json));
            var root = document.RootElement;
            Assert.Equal(5, root.GetProperty("k").GetInt32());
            var results = root.GetProperty("results").EnumerateArray().Where(r => r.GetProperty("tier").GetString() == "all").ToArray();
            Assert.Equal(rows.Select(r => r.Split('|')[1].Trim('*', ' ')), results.Select(r => r.GetProperty("source").GetString()));
            Assert.True(root.GetProperty("tuning").GetProperty("validation_users").GetInt32() > 0);
            foreach (var result in results)
            {
                foreach (var metric in new[] { "precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k", "coverage" })
                {
                    Assert.InRange(result.GetProperty(metric).GetDouble(), 0, 1);
                }
                Assert.True(result.GetProperty("users").GetInt32() > 0);
            }
            var hybrid = results.Single(r => r.GetProperty("source").GetString() == "hybrid");
            Assert.True(hybrid.GetProperty("ndcg_at_k").GetDouble() > 0, "the hybrid must find some held-out items");
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Theory]
    [InlineData("--synthetic", "tiny", "--test-fraction", "1")]
    [InlineData("--synthetic", "tiny", "--k", "0")]
    [InlineData("--synthetic", "tiny", "--max-users", "-1")]
    [InlineData("--synthetic", "tiny", "--rebuild-from", "1")]
    [InlineData("--synthetic", "tiny", "--rebuild-from", "NaN")]
    [InlineData("--synthetic", "tiny", "--rebuild-from", "0.9", "--served-by", "http://127.0.0.1:5080")]
    [InlineData("--k", "10")]
    [InlineData("--synthetic", "tiny", "--served-by", "not-a-url")]
    [InlineData("--synthetic", "tiny", "--served-by", "ftp://127.0.0.1:5080")]
    public void Bad_options_are_rejected_before_any_work(params string[] arguments)
    {
        var (exitCode, output) = Run(arguments);
        Assert.NotEqual(0, exitCode);
        Assert.DoesNotContain("| source |", output);
    }
}
