using Microsoft.Extensions.Options;
using RecApp.Engine.Domain;
using RecApp.Engine.Model;
using RecApp.Engine.Embeddings;
using RecApp.Data;
using RecApp.Data.Models;
using RecApp.Data.Migrations;

namespace RecApp.Data.Source;

/// <summary>
/// How the optional source (main) database is read: three queries giving RecApp's shapes, bound from section
/// <c>SourceDatabase</c>. Each is wrapped as a subquery (<c>SELECT … FROM (query) AS s WHERE …</c>), so a per-user read
/// adds <c>WHERE user_id = $1</c> and PostgreSQL pushes it into a simple view or query. The defaults read views the
/// operator creates in the shop's database (README, "Source database"). Used only when <c>ConnectionStrings:maindb</c>
/// (or <c>MAIN_DATABASE_URL</c>) is set.
/// </summary>
public sealed class SourceDatabaseOptions
{
    public const string SectionName = "SourceDatabase";

    /// <summary>The Aspire connection name (<c>ConnectionStrings:maindb</c>) and the health check's name.</summary>
    public const string ConnectionName = "maindb";

    /// <summary>
    /// Columns <c>id</c> bigint, <c>title</c> text, <c>category</c> text, <c>tags</c> text[], <c>price</c> numeric,
    /// <c>geo_id</c> int (null: everywhere), <c>active</c> bool, <c>created_at</c> and <c>updated_at</c> timestamptz
    /// (<c>updated_at</c> drives the API's incremental catalog poll).
    /// </summary>
    public string ItemsQuery { get; set; } =
        "SELECT id, title, category, tags, price, geo_id, active, created_at, updated_at FROM recapp_items";

    /// <summary>Columns <c>id</c> bigint, <c>gender</c>, <c>age_group</c> text (null: unknown), <c>geo_id</c> int (null).</summary>
    public string UsersQuery { get; set; } = "SELECT id, gender, age_group, geo_id FROM recapp_users";

    /// <summary>
    /// Columns <c>user_id</c>, <c>item_id</c> bigint, <c>type</c> text: RecApp's interaction name (<c>view</c>,
    /// <c>click</c>, <c>like</c>, <c>wishlist_add</c>, <c>add_to_cart</c>, <c>purchase</c>, <c>rating</c>; rows with any
    /// other name are skipped), <c>value</c> real (a rating's 1–5, else null), <c>occurred_at</c> timestamptz.
    /// </summary>
    public string InteractionsQuery { get; set; } =
        "SELECT user_id, item_id, type, value, occurred_at FROM recapp_interactions";
}

/// <summary>Each query must be one statement that can stand as a subquery.</summary>
public sealed class SourceDatabaseOptionsValidator : IValidateOptions<SourceDatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, SourceDatabaseOptions options)
    {
        var failures = new List<string>();
        Check(options.ItemsQuery, nameof(options.ItemsQuery));
        Check(options.UsersQuery, nameof(options.UsersQuery));
        Check(options.InteractionsQuery, nameof(options.InteractionsQuery));
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(string? query, string key)
        {
            var text = query?.Trim().TrimEnd(';').Trim();
            var setting = $"{SourceDatabaseOptions.SectionName}:{key}";
            if (string.IsNullOrEmpty(text))
            {
                failures.Add($"{setting} must be a query (SELECT …, WITH …, TABLE … or VALUES …).");
            }
            else if (!(text.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase) || text.StartsWith("WITH", StringComparison.OrdinalIgnoreCase)
                       || text.StartsWith("TABLE", StringComparison.OrdinalIgnoreCase) || text.StartsWith("VALUES", StringComparison.OrdinalIgnoreCase)))
            {
                failures.Add($"{setting} must start with SELECT, WITH, TABLE or VALUES (it is used as a subquery), got '{Shorten(text)}'.");
            }
            else if (text.Contains(';'))
            {
                failures.Add($"{setting} must be a single statement (no ';' inside), got '{Shorten(text)}'.");
            }
        }
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
