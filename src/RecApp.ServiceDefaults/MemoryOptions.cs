using System.ComponentModel.DataAnnotations;

namespace RecApp.ServiceDefaults;

/// <summary>Section <c>Memory</c>: when a service hands the memory of a burst back to the operating system.</summary>
public sealed class MemoryOptions : IValidatableObject
{
    public const string SectionName = "Memory";

    /// <summary>
    /// How long a service must stay nearly idle (allocating under <see cref="IdleTrimPolicy.IdleBytesPerSecond"/>) after a
    /// burst before it compacts its heap and returns the free part (<see cref="IdleHeapTrim"/>). 00:00:00 turns it off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00", ErrorMessage = "Memory:IdleTrimAfter must be between 00:00:00 (off) and 1 day.")]
    public TimeSpan IdleTrimAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>What a service must have allocated since its last trim for the next one to be worth its pause.</summary>
    [Range(0L, long.MaxValue, ErrorMessage = "Memory:IdleTrimMinimumAllocation must not be negative.")]
    public long IdleTrimMinimumAllocation { get; set; } = 256L * 1024 * 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (IdleTrimAfter > TimeSpan.Zero && IdleTrimAfter < TimeSpan.FromSeconds(1))
        {
            yield return new ValidationResult(
                $"Memory:IdleTrimAfter ({IdleTrimAfter}) must be 00:00:00 (off) or at least 1 s.", [nameof(IdleTrimAfter)]);
        }
    }
}
