using System.Text;
using RecApp.Engine.Domain;

namespace RecApp.Engine.Datasets;

/// <summary>One rejected row: where it is and why.</summary>
public sealed record ImportProblem(string File, long Line, string Reason)
{
    public override string ToString() => $"{File}:{Line}: {Reason}";
}

/// <summary>Rows read and accepted per file.</summary>
public sealed record ImportFileSummary(string File, long RowsRead, long RowsAccepted)
{
    public long RowsRejected => RowsRead - RowsAccepted;
}

/// <summary>
/// What an import did with every row: each rejected row is listed with its file and line, so nothing is dropped
/// silently. <see cref="ImplicitUsers"/> counts users created because interactions named them but no user row did.
/// </summary>
public sealed class ImportReport
{
    private readonly List<ImportProblem> _problems = [];
    private readonly List<ImportFileSummary> _files = [];

    public IReadOnlyList<ImportProblem> Problems => _problems;
    public IReadOnlyList<ImportFileSummary> Files => _files;
    public long RejectedRows => _problems.Count;
    public long ImplicitUsers { get; internal set; }
    public bool HasProblems => _problems.Count > 0;

    internal void Reject(string file, long line, string reason) => _problems.Add(new ImportProblem(file, line, reason));

    internal void Summarize(string file, long read, long accepted) => _files.Add(new ImportFileSummary(file, read, accepted));

    /// <summary>A plain-text summary: per-file counts, then up to <paramref name="maxProblems"/> problems.</summary>
    public string Format(int maxProblems = 50)
    {
        var text = new StringBuilder();
        foreach (var file in _files)
        {
            text.AppendLine($"{file.File}: {file.RowsRead} rows read, {file.RowsAccepted} accepted, {file.RowsRejected} rejected");
        }
        if (ImplicitUsers > 0)
        {
            text.AppendLine($"{ImplicitUsers} users created with unknown demographics (named only by interactions)");
        }
        foreach (var problem in _problems.Take(maxProblems))
        {
            text.AppendLine(problem.ToString());
        }
        if (_problems.Count > maxProblems)
        {
            text.AppendLine($"... and {_problems.Count - maxProblems} more rejected rows");
        }
        return text.ToString();
    }
}

/// <summary>An imported dataset and the report of how its files were read.</summary>
public sealed record ImportResult(Dataset Dataset, ImportReport Report);
