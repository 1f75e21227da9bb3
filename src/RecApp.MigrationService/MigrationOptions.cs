using System.ComponentModel.DataAnnotations;

namespace RecApp.MigrationService;

/// <summary>Settings of the migration step, section <c>Migrations</c>.</summary>
public sealed class MigrationOptions
{
    public const string SectionName = "Migrations";

    /// <summary>How long to keep retrying while PostgreSQL does not accept connections yet.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
